import Glibc

/// One open file descriptor, closed exactly once: by `close()` or, failing that, by `deinit`. A raw
/// `Int32` closed on two paths (the store once closed a descriptor twice when a rename failed) can
/// close another task's file that reused the number in between.
package final class FileDescriptor: @unchecked Sendable {
    // @unchecked: used by one task at a time (a request's write or read), never shared.
    private(set) var raw: Int32

    /// `open(2)`; nil with `errno` set when it fails.
    package init?(path: String, flags: Int32, mode: mode_t = 0o600) {
        let fd = open(path, flags | O_CLOEXEC, mode)
        guard fd >= 0 else { return nil }
        raw = fd
    }

    /// Closes now; the result of close(2) (0 or -1 with errno) so a caller can tell a failed flush.
    @discardableResult
    package func close() -> Int32 {
        guard raw >= 0 else { return 0 }
        let result = Glibc.close(raw)
        raw = -1
        return result
    }

    deinit {
        if raw >= 0 { _ = Glibc.close(raw) }
    }
}
