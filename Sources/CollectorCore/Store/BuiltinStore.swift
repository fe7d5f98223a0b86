import Foundation
import Glibc

/// The collector's own storage: a directory tree under `<data>/store`, written atomically (temporary
/// file, fsync, rename, fsync of the directory) so a crash never leaves a half-written file under its
/// final name. Refuses to follow symlinks anywhere on a path. Blocking file I/O: small and local.
public struct BuiltinStore: Sendable {
    public let root: URL
    /// Free space the store leaves on its file system; below it, writes answer 507.
    public let minimumFreeBytes: Int64

    public init(root: URL, minimumFreeBytes: Int64 = 512 << 20) throws {
        self.root = root
        self.minimumFreeBytes = minimumFreeBytes
        try FileManager.default.createDirectory(
            at: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    public enum Kind: Equatable { case missing, file(size: Int64, modified: Date), collection(modified: Date) }

    /// What is at `path`; a symlink on the way is an error, not something to follow.
    public func kind(_ path: StorePath) throws -> Kind {
        var url = root
        for (index, component) in path.components.enumerated() {
            url.appendPathComponent(component)
            var info = stat()
            guard lstat(url.path, &info) == 0 else { return .missing }
            let type = info.st_mode & S_IFMT
            if type == S_IFLNK {
                throw AdminError(.forbidden, "\(path) crosses a symbolic link; the store does not follow them")
            }
            let modified = Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec))
            if index == path.components.count - 1 {
                if type == S_IFDIR { return .collection(modified: modified) }
                if type == S_IFREG { return .file(size: Int64(info.st_size), modified: modified) }
                throw AdminError(.forbidden, "\(path) is neither a file nor a collection")
            } else if type != S_IFDIR {
                return .missing
            }
        }
        return .collection(modified: Date())
    }

    public func url(_ path: StorePath) -> URL {
        path.components.reduce(root) { $0.appendingPathComponent($1) }
    }

    public func children(_ path: StorePath) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url(path).path).filter { !$0.hasPrefix(".store-tmp-") }
            .sorted()
    }

    public func makeCollection(_ path: StorePath) throws {
        guard mkdir(url(path).path, 0o700) == 0 else {
            throw AdminError(.conflict, "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        try syncDirectory(url(path).deletingLastPathComponent())
    }

    /// Writes the chunks to a temporary file in the target directory, then renames it into place.
    public func write<Chunks: AsyncSequence>(_ path: StorePath, chunks: Chunks, maxBytes: Int64) async throws -> Int64
    where Chunks.Element == [UInt8] {
        let destination = url(path)
        let temporary = destination.deletingLastPathComponent().appendingPathComponent(
            ".store-tmp-\(UUID().uuidString)")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw AdminError(.conflict, "cannot write \(path): \(String(cString: strerror(errno)))") }
        var written: Int64 = 0
        do {
            for try await chunk in chunks {
                written += Int64(chunk.count)
                guard written <= maxBytes else {
                    throw AdminError(.tooLarge, "\(path) is larger than \(maxBytes) bytes")
                }
                try chunk.withUnsafeBytes { buffer in
                    var offset = 0
                    while offset < buffer.count {
                        let count = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                        guard count > 0 else { throw StoreFull(errno: errno) }
                        offset += count
                    }
                }
            }
            guard fsync(fd) == 0 else { throw StoreFull(errno: errno) }
            close(fd)
            guard rename(temporary.path, destination.path) == 0 else {
                throw AdminError(.conflict, "cannot place \(path): \(String(cString: strerror(errno)))")
            }
            try syncDirectory(destination.deletingLastPathComponent())
            return written
        } catch {
            close(fd)
            unlink(temporary.path)
            throw error
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
        try syncDirectory(url(path).deletingLastPathComponent())
    }

    /// rename(2): atomic within the store; `overwrite` false refuses an existing destination.
    public func move(_ source: StorePath, to destination: StorePath) throws {
        guard rename(url(source).path, url(destination).path) == 0 else {
            throw AdminError(.conflict, "cannot move \(source) to \(destination): \(String(cString: strerror(errno)))")
        }
        try syncDirectory(url(destination).deletingLastPathComponent())
    }

    public func copy(_ source: StorePath, to destination: StorePath) throws {
        try FileManager.default.copyItem(at: url(source), to: url(destination))
        try syncDirectory(url(destination).deletingLastPathComponent())
    }

    private func syncDirectory(_ directory: URL) throws {
        let fd = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        _ = fsync(fd)
    }
}

/// ENOSPC/EDQUOT while writing: the store is full (507).
public struct StoreFull: Error, CustomStringConvertible {
    public let errno: Int32
    public var description: String { "the store's disk is full: \(String(cString: strerror(errno)))" }
}
