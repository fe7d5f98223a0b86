import Foundation
import Glibc
import NIOCore
import NIOPosix

/// The collector's own storage: a directory tree under `<data>/store`, written atomically (temporary
/// file, fsync, rename, fsync of the directory) so a crash never leaves a half-written file under its
/// final name. Refuses to follow symlinks anywhere on a path. Every call that blocks on the disk
/// (writes, fsync, renames, walks, copies, reads) runs on NIO's thread pool, never on the tasks that
/// serve requests: a slow disk must not stall `/healthz` or an agent's configuration request.
public struct BuiltinStore: Sendable {
    public let root: URL
    /// Free space the store leaves on its file system; below it, writes answer 507.
    public let minimumFreeBytes: Int64
    /// Names the store gives its own temporary files; hidden from listings and refused from clients.
    package static let temporaryPrefix = ".store-tmp-"

    public init(root: URL, minimumFreeBytes: Int64 = 512 << 20) throws {
        self.root = root
        self.minimumFreeBytes = minimumFreeBytes
        try FileManager.default.createDirectory(
            at: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    public enum Kind: Equatable, Sendable {
        case missing, file(size: Int64, modified: Date), collection(modified: Date)
    }

    /// What is at `path`; a symlink on the way is an error, not something to follow.
    public func kind(_ path: StorePath) throws -> Kind {
        var url = root
        for (index, component) in path.components.enumerated() {
            url.appendPathComponent(component)
            var info = stat()
            guard lstat(url.path, &info) == 0 else { return .missing }
            let type = info.st_mode & S_IFMT
            if type == S_IFLNK {
                throw StoreError(.forbidden, "\(path) crosses a symbolic link; the store does not follow them")
            }
            let modified = Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec))
            if index == path.components.count - 1 {
                if type == S_IFDIR { return .collection(modified: modified) }
                if type == S_IFREG { return .file(size: Int64(info.st_size), modified: modified) }
                throw StoreError(.forbidden, "\(path) is neither a file nor a collection")
            } else if type != S_IFDIR {
                return .missing
            }
        }
        return .collection(modified: Date())
    }

    public func url(_ path: StorePath) -> URL {
        path.components.reduce(root) { $0.appendingPathComponent($1) }
    }

    /// Blocking, like every method here but `write`: callers run it on the thread pool (`blocking`).
    public func children(_ path: StorePath) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url(path).path).filter {
            !$0.hasPrefix(BuiltinStore.temporaryPrefix)
        }.sorted()
    }

    public func makeCollection(_ path: StorePath) throws {
        guard mkdir(url(path).path, 0o700) == 0 else {
            throw StoreError(.conflict, "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        BuiltinStore.syncDirectory(url(path).deletingLastPathComponent())
    }

    /// Writes the chunks to a temporary file in the target directory, then renames it into place.
    /// Chunks are gathered into writes of up to 1 MiB, each one thread-pool hop. More than `maxBytes`
    /// stops the upload with `tooLarge` (nothing stays behind); a full disk with `StoreError.full`.
    /// `received` hears the running total after each chunk and may stop the upload by throwing.
    /// `beforePlacing` runs after the data is durable and before the rename, so a check made at the
    /// start of a long upload (is the name still free to overwrite?) can be made again at the end.
    public func write<Chunks: AsyncSequence>(
        _ path: StorePath, chunks: Chunks, maxBytes: Int64,
        received: @Sendable (_ total: Int64) throws -> Void = { _ in },
        beforePlacing: @Sendable () async throws -> Void = {}
    ) async throws -> Written
    where Chunks.Element == ByteBuffer {
        let destination = url(path)
        let temporary = destination.deletingLastPathComponent().appendingPathComponent(
            "\(BuiltinStore.temporaryPrefix)\(UUID().uuidString)")
        let file = try await Self.blocking { () throws -> FileDescriptor in
            guard let file = FileDescriptor(path: temporary.path, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW)
            else { throw StoreError(.conflict, "cannot write \(path): \(String(cString: strerror(errno)))") }
            return file
        }
        var written: Int64 = 0
        do {
            var pending = ByteBuffer()
            for try await chunk in chunks {
                written += Int64(chunk.readableBytes)
                guard written <= maxBytes else {
                    throw StoreError(.tooLarge, "\(path) is larger than \(maxBytes) bytes")
                }
                try received(written)
                pending.writeImmutableBuffer(chunk)
                if pending.readableBytes >= 1 << 20 {
                    let batch = pending
                    pending = ByteBuffer()
                    try await Self.blocking { try BuiltinStore.writeAll(batch, to: file) }
                }
            }
            let last = pending
            try await Self.blocking {
                try BuiltinStore.writeAll(last, to: file)
                guard fsync(file.raw) == 0, file.close() == 0 else { throw StoreError.diskFull(errno: errno) }
            }
            try await beforePlacing()
            let total = written
            return try await Self.blocking {
                // What the rename replaces, measured now: another PUT to the same name may have
                // finished while this one streamed.
                var replaced = stat()
                let replacedBytes =
                    lstat(destination.path, &replaced) == 0 && (replaced.st_mode & S_IFMT) == S_IFREG
                    ? Int64(replaced.st_size) : 0
                guard rename(temporary.path, destination.path) == 0 else {
                    throw StoreError(.conflict, "cannot place \(path): \(String(cString: strerror(errno)))")
                }
                BuiltinStore.syncDirectory(destination.deletingLastPathComponent())
                return Written(bytes: total, replaced: replacedBytes)
            }
        } catch {
            file.close()
            unlink(temporary.path)
            throw error
        }
    }

    /// What a write stored, and the size of the file it replaced (0 for a new name).
    public struct Written: Sendable {
        public var bytes: Int64
        public var replaced: Int64
    }

    private static func writeAll(_ buffer: ByteBuffer, to file: FileDescriptor) throws {
        try buffer.withUnsafeReadableBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let count = Glibc.write(file.raw, bytes.baseAddress! + offset, bytes.count - offset)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { throw StoreError.diskFull(errno: errno) }
                offset += count
            }
        }
    }

    /// Free bytes on the store's file system, minus the reserve: what a write may still use.
    public var availableBytes: Int64 {
        var info = statvfs()
        guard statvfs(root.path, &info) == 0 else { return 0 }
        return Int64(info.f_bavail) * Int64(info.f_frsize) - minimumFreeBytes
    }

    public func remove(_ path: StorePath) throws {
        try FileManager.default.removeItem(at: url(path))
        BuiltinStore.syncDirectory(url(path).deletingLastPathComponent())
    }

    /// rename(2): atomic within the store.
    public func move(_ source: StorePath, to destination: StorePath) throws {
        guard rename(url(source).path, url(destination).path) == 0 else {
            throw StoreError(.conflict, "cannot move \(source) to \(destination): \(String(cString: strerror(errno)))")
        }
        BuiltinStore.syncDirectory(url(destination).deletingLastPathComponent())
    }

    /// A file or a whole tree; ENOSPC on the way is `StoreError.full`, and what was copied stays (the
    /// caller measures it and corrects the usage).
    public func copy(_ source: StorePath, to destination: StorePath) throws {
        do {
            try FileManager.default.copyItem(at: url(source), to: url(destination))
        } catch let error as CocoaError where error.code == .fileWriteOutOfSpace {
            throw StoreError.diskFull(errno: ENOSPC)
        }
        BuiltinStore.syncDirectory(url(destination).deletingLastPathComponent())
    }

    /// Size of the file or the whole tree at `path` (lstat, symlinks not followed); 0 when missing.
    public func treeSize(_ path: StorePath) -> Int64 {
        BuiltinStore.treeSize(url(path))
    }

    /// An open file to stream from, refusing a symlink in its last component (the walk in `kind`
    /// refused any on the way).
    package func openForReading(_ path: StorePath) async throws -> FileDescriptor {
        let target = url(path)
        return try await Self.blocking {
            guard let file = FileDescriptor(path: target.path, flags: O_RDONLY | O_NOFOLLOW) else {
                throw StoreError(.notFound, "\(path) cannot be read: \(String(cString: strerror(errno)))")
            }
            return file
        }
    }

    /// Up to `count` bytes at `offset`, read on the thread pool.
    package static func read(_ file: FileDescriptor, offset: Int64, count: Int) async throws -> ByteBuffer {
        try await blocking {
            var buffer = ByteBufferAllocator().buffer(capacity: count)
            let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { bytes in
                max(0, pread(file.raw, bytes.baseAddress!, count, off_t(offset)))
            }
            guard read > 0 else { throw StoreError(.conflict, "the file ended while it was being read") }
            return buffer
        }
    }

    package static func syncDirectory(_ directory: URL) {
        guard let file = FileDescriptor(path: directory.path, flags: O_RDONLY | O_DIRECTORY) else { return }
        _ = fsync(file.raw)
    }

    package static func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(work)
    }

    /// Size of a file, or of everything under a directory; 0 when missing. Uploads in flight (the
    /// store's temporary files) are left out: their bytes are counted when they take their name.
    package static func treeSize(_ url: URL) -> Int64 {
        var info = stat()
        guard lstat(url.path, &info) == 0 else { return 0 }
        if (info.st_mode & S_IFMT) == S_IFREG { return Int64(info.st_size) }
        guard (info.st_mode & S_IFMT) == S_IFDIR,
            let names = try? FileManager.default.contentsOfDirectory(atPath: url.path)
        else { return 0 }
        return names.filter { !$0.hasPrefix(BuiltinStore.temporaryPrefix) }.reduce(0) {
            $0 + treeSize(url.appendingPathComponent($1))
        }
    }
}
