import Foundation
import Glibc

/// Crash-safe files: write to a temporary name, fsync, rename, fsync the directory; 0600 files, 0700 dirs.
public enum DurableFile {
    /// Creates the directory (and its parents) 0700; a new one's entry is made durable in its parent,
    /// or a power loss could take a journal directory with the journals fsync'd in it.
    public static func makeDirectory(_ url: URL) throws {
        let existed = FileManager.default.fileExists(atPath: url.path)
        defer { if !existed { syncDirectory(url.deletingLastPathComponent()) } }
        do {
            try FileManager.default.createDirectory(
                at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw OutputError(description: "cannot create directory \(url.path): \(error.localizedDescription)")
        }
    }

    public static func write(_ data: Data, to url: URL) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw OutputError(description: "cannot write \(url.path): \(String(cString: strerror(errno)))")
        }
        var failure: String?
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno))
                    return
                }
                offset += written
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        close(fd)
        if let failure {
            unlink(temporary.path)
            throw OutputError(description: "cannot write \(url.path): \(failure)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary.path)
            throw OutputError(description: "cannot write \(url.path): \(reason)")
        }
        syncDirectory(url.deletingLastPathComponent())
    }

    /// Makes a directory's entries (a rename, a removal) durable.
    public static func syncDirectory(_ url: URL) {
        let directory = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }

    /// Removes a file durably; one already gone is not an error.
    public static func remove(_ url: URL) throws {
        guard unlink(url.path) == 0 || errno == ENOENT else {
            throw OutputError(description: "cannot remove \(url.path): \(String(cString: strerror(errno)))")
        }
        syncDirectory(url.deletingLastPathComponent())
    }
}
