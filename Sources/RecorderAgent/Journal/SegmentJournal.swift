import Crypto
import Foundation
import Glibc
import RecorderCore

/// The journal of the segment being recorded: what a crash must not take. It holds only what
/// `ProgressiveSeal` makes, so nothing in it can be read without a recording key:
///
/// * `start`: the segment's metadata (the caller's JSON: sequence, start, size, calls) and the
///   seal's wrapped content keys and nonce;
/// * `body`: ciphertext of the WebM's next clusters, at their final place;
/// * `closing`: the encrypted header and Cues and the tag of a file ending here, with the caller's
///   JSON of the state at this point (frames, last frame time, pauses).
///
/// Each record is its type, its length and its payload, followed by the SHA-256 of all three: a
/// record cut short or torn by a power loss fails its check, and reading stops there, so a tail is
/// never taken for data. Records are written at once (`append`); `sync` makes them durable
/// (fdatasync), which the recorder does on its own interval.
///
/// File: `JRNL` and a version byte, then records.
public enum SegmentJournal {
    static let magic: [UInt8] = Array("JRNL".utf8) + [1]

    enum RecordType: UInt8 {
        case start = 1
        case body = 2
        case closing = 3
    }

    /// The largest record read back: a body of one second of screen is far smaller.
    static let largestRecord = 64 << 20

    /// What the journal says about the segment: enough to make the sealed file as it was at the last
    /// closing, and what came after it that is lost.
    public struct Contents: Sendable {
        public var metadata: [UInt8]
        public var recipientSet: [UInt8]
        public var nonce: [UInt8]
        /// The last closing whose body is whole in the journal, with the caller's state at it.
        public var closing: ProgressiveSeal.Closing?
        public var closingState: [UInt8]
        /// The body's ciphertext up to that closing.
        public var bodyCiphertext: [UInt8]
        /// Body bytes after the last closing (recorded, never closed) and bytes of a torn record.
        public var unclosedBodyBytes: Int
        public var tornBytes: Int

        /// The sealed segment as of the last closing; nil when the journal has none.
        public func sealed() throws -> [UInt8]? {
            guard let closing else { return nil }
            return try ProgressiveSeal.envelope(
                recipientSet: recipientSet, nonce: nonce, closing: closing, bodyCiphertext: bodyCiphertext[...])
        }
    }

    public struct Unreadable: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads a journal, stopping at the first record that is cut short or fails its check.
    public static func read(_ bytes: [UInt8]) throws -> Contents {
        guard bytes.count >= magic.count, Array(bytes.prefix(magic.count)) == magic else {
            throw Unreadable(description: "not a segment journal (no JRNL version 1 header)")
        }
        var offset = magic.count
        var contents: Contents?
        var body: [UInt8] = []
        while offset < bytes.count {
            guard let (type, payload, next) = record(in: bytes, at: offset) else { break }
            switch type {
            case .start:
                guard contents == nil else { throw Unreadable(description: "a second start record at byte \(offset)") }
                let parts = try split(payload, into: 3, at: offset)
                contents = Contents(
                    metadata: parts[0], recipientSet: parts[1], nonce: parts[2], closing: nil, closingState: [],
                    bodyCiphertext: [], unclosedBodyBytes: 0, tornBytes: 0)
            case .body:
                guard contents != nil else { throw Unreadable(description: "a body record before the start at byte \(offset)") }
                body += payload
            case .closing:
                guard contents != nil else { throw Unreadable(description: "a closing record before the start at byte \(offset)") }
                let parts = try split(payload, into: 5, at: offset)
                guard parts[0].count == 8 else { throw Unreadable(description: "a closing without its body length at byte \(offset)") }
                let length = parts[0].reduce(0) { $0 << 8 | Int($1) }
                guard length == body.count else {
                    throw Unreadable(description: "a closing for \(length) body bytes after \(body.count) at byte \(offset)")
                }
                contents?.closing = ProgressiveSeal.Closing(
                    bodyLength: length, headerCiphertext: parts[1], tailCiphertext: parts[2], tag: parts[3])
                contents?.closingState = parts[4]
                contents?.bodyCiphertext = body
            }
            offset = next
        }
        guard var found = contents else {
            throw Unreadable(description: "the journal ends before its start record (\(bytes.count) bytes)")
        }
        found.unclosedBodyBytes = body.count - found.bodyCiphertext.count
        found.tornBytes = bytes.count - offset
        return found
    }

    /// The record at `offset`, if it is whole and checks out.
    static func record(in bytes: [UInt8], at offset: Int) -> (RecordType, [UInt8], Int)? {
        guard offset + 5 <= bytes.count, let type = RecordType(rawValue: bytes[offset]) else { return nil }
        let length = bytes[(offset + 1)..<(offset + 5)].reduce(0) { $0 << 8 | Int($1) }
        let end = offset + 5 + length
        guard length <= largestRecord, end + 32 <= bytes.count else { return nil }
        guard Array(SHA256.hash(data: bytes[offset..<end])) == Array(bytes[end..<(end + 32)]) else { return nil }
        return (type, Array(bytes[(offset + 5)..<end]), end + 32)
    }

    /// Parts written by `encode(parts:)`: each its 4-byte length and bytes.
    static func split(_ payload: [UInt8], into count: Int, at offset: Int) throws -> [[UInt8]] {
        var parts: [[UInt8]] = []
        var index = 0
        while parts.count < count {
            guard index + 4 <= payload.count else { throw Unreadable(description: "a record cut inside at byte \(offset)") }
            let length = payload[index..<(index + 4)].reduce(0) { $0 << 8 | Int($1) }
            guard index + 4 + length <= payload.count else { throw Unreadable(description: "a record cut inside at byte \(offset)") }
            parts.append(Array(payload[(index + 4)..<(index + 4 + length)]))
            index += 4 + length
        }
        return parts
    }

    static func encode(parts: [[UInt8]]) -> [UInt8] {
        parts.flatMap { bigEndian(UInt32($0.count)) + $0 }
    }

    static func frame(_ type: RecordType, _ payload: [UInt8]) -> [UInt8] {
        let head = [type.rawValue] + bigEndian(UInt32(payload.count)) + payload
        return head + Array(SHA256.hash(data: head))
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}

/// Appends a segment's records to its journal file (0600), created exclusively: a journal left by a
/// crash is recovered, never written over.
public final class SegmentJournalWriter {
    public let url: URL
    private var fd: Int32
    public private(set) var bytesWritten = 0
    /// Whether the directory entry has been synced (once, at the first `sync`).
    private var nameSynced = false

    public init(creating url: URL, metadata: [UInt8], seal: ProgressiveSeal) throws {
        self.url = url
        fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw OutputError(description: "cannot create the journal \(url.path): \(String(cString: strerror(errno)))") }
        // Not synced here: a segment starts right after the previous one ends, and two fsyncs there
        // delayed the new segment's first frame (266 ms after a call's start on a busy disk). The
        // first `sync` makes the start and the journal's name durable; a power loss before it loses
        // no more than the sync interval, which is the promise.
        try write(
            SegmentJournal.magic
                + SegmentJournal.frame(.start, SegmentJournal.encode(parts: [metadata, seal.recipientSet, seal.nonce])))
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    /// Ciphertext of the body's next bytes (`ProgressiveSeal.append`'s result).
    public func appendBody(_ ciphertext: [UInt8]) throws {
        guard !ciphertext.isEmpty else { return }
        try write(SegmentJournal.frame(.body, ciphertext))
    }

    /// A closing (`ProgressiveSeal.close`) and the caller's state at it, after the body it closes.
    public func appendClosing(_ closing: ProgressiveSeal.Closing, state: [UInt8]) throws {
        var length: [UInt8] = []
        for shift in stride(from: 56, through: 0, by: -8) { length.append(UInt8(truncatingIfNeeded: closing.bodyLength >> shift)) }
        try write(
            SegmentJournal.frame(
                .closing,
                SegmentJournal.encode(parts: [length, closing.headerCiphertext, closing.tailCiphertext, closing.tag, state])))
    }

    /// Makes what was appended durable.
    public func sync() throws {
        guard fdatasync(fd) == 0 else {
            throw OutputError(description: "cannot sync the journal \(url.path): \(String(cString: strerror(errno)))")
        }
        guard !nameSynced else { return }
        // The journal's name must survive a power loss too.
        let directory = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else {
            throw OutputError(description: "cannot open the journal's directory: \(String(cString: strerror(errno)))")
        }
        defer { Glibc.close(directory) }
        guard fsync(directory) == 0 else {
            throw OutputError(description: "cannot sync the journal's directory: \(String(cString: strerror(errno)))")
        }
        nameSynced = true
    }

    /// Closes the file; the caller removes it once the sealed segment is durable.
    public func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    private func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw OutputError(description: "cannot write the journal \(url.path): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
        bytesWritten += bytes.count
    }
}
