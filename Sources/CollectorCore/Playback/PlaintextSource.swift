import Crypto
import Foundation
import RecorderCore
import WebDAV

/// The plaintext of an opened recording: whole in memory (small recordings, and those in an
/// external target), or read from its sealed file in the built-in store range by range, each range
/// decrypted from its own ciphertext (`SealedLayout`). A long voice recording is then never held
/// whole: a player's ranges cost what they read.
final class PlaintextSource: Sendable {
    enum Backing: Sendable {
        case memory([UInt8])
        case sealedFile(path: String, layout: SealedLayout, key: SymmetricKey)
    }

    let backing: Backing

    init(_ backing: Backing) { self.backing = backing }

    var count: Int {
        switch backing {
        case .memory(let bytes): bytes.count
        case .sealedFile(_, let layout, _): layout.ciphertextLength
        }
    }

    /// What it holds in memory (for the playback cache's budget).
    var residentBytes: Int {
        switch backing {
        case .memory(let bytes): bytes.count
        case .sealedFile: 4096
        }
    }

    func read(_ range: Range<Int>) throws -> [UInt8] {
        switch backing {
        case .memory(let bytes):
            return Array(bytes[range])
        case .sealedFile(let path, let layout, let key):
            guard !range.isEmpty else { return [] }
            let cipher = try Self.read(path, layout.ciphertextRange(for: range))
            return try layout.decrypt(cipher, range: range, key: key)
        }
    }

    static func read(_ path: String, _ range: Range<Int>) throws -> [UInt8] {
        guard let file = FileHandle(forReadingAtPath: path) else {
            throw CollectorError(.notFound, "the sealed recording \(path) is gone")
        }
        defer { try? file.close() }
        try file.seek(toOffset: UInt64(range.lowerBound))
        let data = try file.read(upToCount: range.count) ?? Data()
        guard data.count == range.count else {
            throw CollectorError(.unprocessable, "the sealed recording \(path) is shorter than catalogued")
        }
        return [UInt8](data)
    }
}

extension Collector {
    /// A sealed object in the built-in store larger than this is read by ranges; smaller ones, and
    /// any in an external target, are opened whole.
    static let rangedPlaybackBytes = 16 << 20

    /// Opens a built-in object by ranges when it is large and in the layout we seal: its whole file's
    /// SHA-256 is checked against the catalog's as it streams by in 1 MiB reads (and, for voice, the
    /// plaintext's, decrypting it on the way), so nothing but a chunk is ever held. Nil: open it whole.
    func rangedSource(
        storage name: String, path: String, sha256: String, plainSha256: String?, what: String, threshold: Int
    ) async throws -> PlaintextSource? {
        guard try await storageTargets.get(name).kind == .builtin else { return nil }
        let file = try builtinStore().url(StorePath(components: path.split(separator: "/").map(String.init))).path
        guard let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue, size > threshold
        else { return nil }
        let prefix = try PlaintextSource.read(file, 0..<min(size, 64 << 10))
        guard let layout = SealedLayout.parse(prefix: prefix, totalSize: size) else { return nil }
        let key = try await recordingKeys.contentKey(of: layout)
        // One pass over the file: every byte into the sealed hash; the ciphertext's, decrypted, into
        // the plaintext's. Chunks are cut at the ciphertext's start, so each decrypts from a block edge.
        let (sealed, plain) = try await Self.onThreadPool { () -> (String, String?) in
            var sealedHash = SHA256()
            var plainHash = plainSha256 == nil ? nil : SHA256()
            let chunk = 1 << 20
            let cipher = layout.ciphertextOffset..<(layout.ciphertextOffset + layout.ciphertextLength)
            var offset = 0
            while offset < size {
                let limit = offset < cipher.lowerBound ? cipher.lowerBound : offset < cipher.upperBound ? cipher.upperBound : size
                let range = offset..<min(limit, offset + chunk)
                let bytes = try PlaintextSource.read(file, range)
                sealedHash.update(data: bytes)
                if plainHash != nil, cipher.contains(range.lowerBound) {
                    let plainRange = (range.lowerBound - cipher.lowerBound)..<(range.upperBound - cipher.lowerBound)
                    plainHash?.update(data: try layout.decrypt(bytes, range: plainRange, key: key))
                }
                offset = range.upperBound
            }
            return (sealedHash.finalize().hexString, plainHash.map { $0.finalize().hexString })
        }
        guard sealed == sha256 else {
            throw StorageFault(
                kind: .unprocessable, detail: "\(what) in \(file) is not the file catalogued (its SHA-256 differs)", what: what)
        }
        if let plainSha256, plain != plainSha256 {
            throw StorageFault(kind: .unprocessable, detail: "\(what) opened to other content than was catalogued", what: what)
        }
        return PlaintextSource(.sealedFile(path: file, layout: layout, key: key))
    }
}
