import Crypto
import Glibc
import Foundation
import NIOPosix
import StorageClient
import WebDAV

/// Read access to what agents stored in a storage target, for the collector's own checks: the size
/// and SHA-256 of a sealed segment (manifest intake), manifests and directory listings (reindex).
/// Two kinds: the built-in store's files, and an external WebDAV server over libcurl. Blocking I/O;
/// `Collector.onThreadPool` keeps it off the event loops.
public protocol TargetStorage: Sendable {
    /// Size and SHA-256 (hex) of the file, read as a stream; nil when there is no such file.
    func digest(_ path: [String]) throws -> (size: Int, sha256: String)?
    /// A small file's bytes (a manifest); nil when there is no such file. Refuses files over `limit`.
    func read(_ path: [String], limit: Int) throws -> Data?
    /// The entries of a collection, sorted by name; empty when there is no such collection.
    func list(_ path: [String]) throws -> [StorageEntry]
    /// How admins and messages name a file of this storage.
    func describe(_ path: [String]) -> String
    /// Stores a file the collector itself writes (a sealed voice recording): collections made as
    /// needed, never visible half-written.
    func write(_ bytes: [UInt8], to path: [String]) throws
    /// Removes a file; nothing when it is not there.
    func remove(_ path: [String]) throws
}

public struct StorageEntry: Sendable, Equatable {
    public var name: String
    public var isCollection: Bool
}

/// The built-in store: files under `<data>/store`, symlinks refused on the way as in `/dav`.
struct BuiltinTargetStorage: TargetStorage {
    let store: BuiltinStore

    func digest(_ path: [String]) throws -> (size: Int, sha256: String)? {
        guard case .file = try store.kind(StorePath(components: path)) else { return nil }
        guard let handle = FileHandle(forReadingAtPath: store.url(StorePath(components: path)).path) else {
            return nil
        }
        defer { try? handle.close() }
        var hash = SHA256()
        var size = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hash.update(data: chunk)
            size += chunk.count
        }
        return (size, hash.finalize().hexString)
    }

    func read(_ path: [String], limit: Int) throws -> Data? {
        guard case .file(let size, _) = try store.kind(StorePath(components: path)) else { return nil }
        guard size <= limit else { throw StorageReadError("\(describe(path)) is \(size) bytes, more than \(limit)") }
        return FileManager.default.contents(atPath: store.url(StorePath(components: path)).path)
    }

    func list(_ path: [String]) throws -> [StorageEntry] {
        guard case .collection = try store.kind(StorePath(components: path)) else { return [] }
        return try store.children(StorePath(components: path)).compactMap { name in
            switch try store.kind(StorePath(components: path + [name])) {
            case .file: StorageEntry(name: name, isCollection: false)
            case .collection: StorageEntry(name: name, isCollection: true)
            case .missing: nil
            }
        }
    }

    func describe(_ path: [String]) -> String { "built-in store /dav/" + path.joined(separator: "/") }

    /// A temporary file beside the target, fsync'd, renamed into place, the directory synced: as the
    /// store's own uploads are written.
    func write(_ bytes: [UInt8], to path: [String]) throws {
        for depth in 1..<path.count {
            let collection = StorePath(components: Array(path.prefix(depth)))
            switch try store.kind(collection) {
            case .collection: continue
            case .missing:
                // Two uploads to one new call make its collection at once: the loser finds it made.
                do {
                    try store.makeCollection(collection)
                } catch {
                    guard case .collection = try store.kind(collection) else { throw error }
                }
            case .file: throw StorageReadError("\(describe(Array(path.prefix(depth)))) is a file, not a collection")
            }
        }
        let destination = store.url(StorePath(components: path))
        let temporary = destination.deletingLastPathComponent().appendingPathComponent(
            "\(BuiltinStore.temporaryPrefix)\(UUID().uuidString)")
        let file = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard file >= 0 else {
            throw StorageReadError("cannot write \(describe(path)): \(String(cString: strerror(errno)))")
        }
        var written = 0
        let failure: Int32? = bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let count = Glibc.write(file, raw.baseAddress! + written, raw.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                written += count
            }
            return fsync(file) == 0 ? nil : errno
        }
        let closed = close(file) == 0 ? nil : errno
        if let failure = failure ?? closed {
            unlink(temporary.path)
            throw StorageReadError("cannot write \(describe(path)): \(String(cString: strerror(failure)))")
        }
        guard rename(temporary.path, destination.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary.path)
            throw StorageReadError("cannot place \(describe(path)): \(reason)")
        }
        BuiltinStore.syncDirectory(destination.deletingLastPathComponent())
    }

    func remove(_ path: [String]) throws {
        guard case .file = try store.kind(StorePath(components: path)) else { return }
        try store.remove(StorePath(components: path))
    }
}

/// An external WebDAV target, with the credentials and CA the admin configured for it.
struct WebDAVTargetStorage: TargetStorage {
    let client: WebDAVClient

    func digest(_ path: [String]) throws -> (size: Int, sha256: String)? {
        var hash = SHA256()
        guard let size = try client.get(path, into: { hash.update(bufferPointer: $0) }) else { return nil }
        return (size, hash.finalize().hexString)
    }

    func read(_ path: [String], limit: Int) throws -> Data? {
        var data = Data()
        var tooLarge = false
        guard
            try client.get(
                path,
                into: { piece in
                    if data.count + piece.count > limit { tooLarge = true } else { data.append(contentsOf: piece) }
                }) != nil
        else { return nil }
        if tooLarge { throw StorageReadError("\(describe(path)) is more than \(limit) bytes") }
        return data
    }

    func list(_ path: [String]) throws -> [StorageEntry] {
        let (status, body) = try client.propfind(path, depth: 1)
        if status == 404 { return [] }
        guard status == 207 else { throw TransferError(.rejected, "PROPFIND \(client.url(path)): HTTP \(status)") }
        let own = client.url(path, collection: true)
        return try MultistatusListing.entries(Data(body), requestURL: own).sorted { $0.name < $1.name }
    }

    func describe(_ path: [String]) -> String { client.url(path) }

    func write(_ bytes: [UInt8], to path: [String]) throws {
        try client.store(bytes, in: Array(path.dropLast()), name: path.last!)
    }

    func remove(_ path: [String]) throws {
        try client.delete(path)
    }
}

public struct StorageReadError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension Collector {
    /// The storage behind target `name`, ready to read (credentials decrypted, CA written to
    /// `<data>/storage-ca/<name>.pem` for libcurl).
    public func storage(named name: String) async throws -> any TargetStorage {
        let record = try await storageTargets.get(name)
        switch record.kind {
        case .builtin:
            return BuiltinTargetStorage(store: try builtinStore())
        case .webdav:
            let secret = try await storageTargets.secret(of: name)
            let credentials: StorageTarget.Credentials =
                switch record.auth {
                case .none: .none
                case .basic: .basic(user: record.username ?? "", password: secret ?? "")
                case .digest: .digest(user: record.username ?? "", password: secret ?? "")
                case .bearer: .bearer(token: secret ?? "")
                }
            var caFile: String?
            if let pem = record.caPEM {
                let directory = dataDirectory.appendingPathComponent("storage-ca")
                try FileManager.default.createDirectory(
                    at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                let file = directory.appendingPathComponent("\(name).pem")
                try Data(pem.utf8).write(to: file, options: .atomic)
                caFile = file.path
            }
            var target = StorageTarget(baseURL: record.url ?? "", credentials: credentials, caFile: caFile)
            target.stallTimeoutSeconds = 30
            return WebDAVTargetStorage(client: WebDAVClient(target: target))
        }
    }

    /// The built-in store's files, `<data>/store`.
    public func builtinStore() throws -> BuiltinStore {
        try BuiltinStore(root: dataDirectory.appendingPathComponent("store"))
    }

    /// Runs blocking storage I/O (files, libcurl) on NIO's thread pool, never on an event loop or the
    /// cooperative pool.
    public static func onThreadPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(work)
    }
}
