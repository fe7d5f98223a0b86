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
        /// `checked`: the file as it was when its SHA-256 was checked; any change since is refused.
        case sealedFile(path: String, layout: SealedLayout, key: SymmetricKey, checked: FileIdentity)
    }

    let backing: Backing

    init(_ backing: Backing) { self.backing = backing }

    var count: Int {
        switch backing {
        case .memory(let bytes): bytes.count
        case .sealedFile(_, let layout, _, _): layout.ciphertextLength
        }
    }

    /// What it holds in memory (for the playback cache's budget).
    var residentBytes: Int {
        switch backing {
        case .memory(let bytes): bytes.count
        case .sealedFile: 4096
        }
    }

    /// False once a sealed file read by ranges changed since its check: the cache lets it go, and
    /// the next open checks the file again (and refuses it if it is no longer the one catalogued).
    var stillAsChecked: Bool {
        guard case .sealedFile(let path, _, _, let checked) = backing else { return true }
        return (try? checked.unchanged(path)) != nil
    }

    func read(_ range: Range<Int>) throws -> [UInt8] {
        switch backing {
        case .memory(let bytes):
            return Array(bytes[range])
        case .sealedFile(let path, let layout, let key, let checked):
            guard !range.isEmpty else { return [] }
            // Counter mode has no tag per range: a file written over in place after its check would
            // decrypt to other bytes unnoticed. Its identity (inode, size, change times), the same
            // before and after the read, says the bytes read are the bytes checked.
            try checked.unchanged(path)
            let cipher = try Self.read(path, layout.ciphertextRange(for: range))
            try checked.unchanged(path)
            return try layout.decrypt(cipher, range: range, key: key)
        }
    }

    /// What changes whenever a file's bytes do, short of someone resetting the system clock.
    struct FileIdentity: Sendable, Equatable {
        var inode: UInt64
        var size: Int64
        var modified: timespec
        var changed: timespec

        init(_ path: String) throws {
            var status = stat()
            guard stat(path, &status) == 0 else {
                throw CollectorError(.notFound, "the sealed recording \(path) is gone")
            }
            inode = UInt64(status.st_ino)
            size = Int64(status.st_size)
            modified = status.st_mtim
            changed = status.st_ctim
        }

        func unchanged(_ path: String) throws {
            guard try FileIdentity(path) == self else {
                throw CollectorError(.unprocessable, "the sealed recording \(path) changed after it was checked; open it again")
            }
        }

        static func == (a: Self, b: Self) -> Bool {
            a.inode == b.inode && a.size == b.size && a.modified.tv_sec == b.modified.tv_sec
                && a.modified.tv_nsec == b.modified.tv_nsec && a.changed.tv_sec == b.changed.tv_sec
                && a.changed.tv_nsec == b.changed.tv_nsec
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
        let identity = try PlaintextSource.FileIdentity(file)
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
        guard try PlaintextSource.FileIdentity(file) == identity else {
            throw StorageFault(kind: .unprocessable, detail: "\(what) in \(file) changed while it was checked", what: what)
        }
        return PlaintextSource(.sealedFile(path: file, layout: layout, key: key, checked: identity))
    }
}
