import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a tool (ffmpeg) with recordings handed over on pipes, never in files: each input is written
/// to its own pipe, which the tool reads as `pipe:3`, `pipe:4`… The plaintext only ever passes through
/// the kernel. Blocking: call it from a thread of its own (`Subprocess.onThread`).
enum Subprocess {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// What a pipe is fed: `count` bytes, read a chunk at a time as the tool takes them, so a long
    /// recording read by ranges (`PlaintextSource`) is never held whole.
    struct Input: Sendable {
        var count: Int
        var read: @Sendable (Range<Int>) throws -> [UInt8]

        init(count: Int, read: @escaping @Sendable (Range<Int>) throws -> [UInt8]) {
            self.count = count
            self.read = read
        }

        init(_ media: PlaybackMedia) {
            self.init(count: media.size, read: media.slice)
        }
    }

    struct Output {
        var status: Int32
        var stdout: [UInt8]
        var stderr: String
    }

    /// The tool's path from PATH, or nil.
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// The first input is the child's fd 3, the next fd 4, and so on. Standard output is kept up to
    /// `outputLimit` bytes (more is a failure); standard error's last 4 KiB explain a failure.
    static func run(
        _ executable: String, _ arguments: [String], inputs: [Input] = [], outputLimit: Int, timeout: TimeInterval = 900
    ) throws -> Output {
        // A reader that quits early must not kill the collector: writes then fail with EPIPE.
        signal(SIGPIPE, SIG_IGN)
        var pipes: [(read: Int32, write: Int32)] = []
        defer {
            for pipe in pipes {
                if pipe.read >= 0 { close(pipe.read) }
                if pipe.write >= 0 { close(pipe.write) }
            }
        }
        func makePipe() throws -> Int {
            var fds: [Int32] = [-1, -1]
            guard pipe(&fds) == 0 else { throw Failure(description: "cannot make a pipe: \(String(cString: strerror(errno)))") }
            // Moved above every fd the child is given (3…3+n), so no dup2 overwrites a source before
            // it is copied, and close-on-exec: only the copies (dup2 clears it) reach the child.
            // (pipe2 is not imported; nothing else in the collector starts processes meanwhile.)
            let high = fds.map { fd -> Int32 in
                let moved = fcntl(fd, F_DUPFD_CLOEXEC, 256)
                close(fd)
                return moved
            }
            guard high.allSatisfy({ $0 >= 0 }) else {
                for fd in high where fd >= 0 { close(fd) }
                throw Failure(description: "cannot place a pipe: \(String(cString: strerror(errno)))")
            }
            pipes.append((high[0], high[1]))
            return pipes.count - 1
        }
        let inputPipes = try inputs.map { _ in try makePipe() }
        let stdoutPipe = try makePipe()
        let stderrPipe = try makePipe()

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipes[stdoutPipe].write, 1)
        posix_spawn_file_actions_adddup2(&actions, pipes[stderrPipe].write, 2)
        for (index, pipe) in inputPipes.enumerated() {
            posix_spawn_file_actions_adddup2(&actions, pipes[pipe].read, Int32(3 + index))
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw Failure(description: "cannot start \(executable): \(String(cString: strerror(spawned)))")
        }
        // The child holds its own ends now.
        for index in inputPipes.map({ $0 }) {
            close(pipes[index].read)
            pipes[index].read = -1
        }
        for index in [stdoutPipe, stderrPipe] {
            close(pipes[index].write)
            pipes[index].write = -1
        }
        let writers = inputPipes.enumerated().map { position, index in
            let fd = pipes[index].write
            pipes[index].write = -1
            let input = inputs[position]
            return Self.thread { () -> String? in
                defer { close(fd) }
                var offset = 0
                while offset < input.count {
                    let chunk: [UInt8]
                    do {
                        chunk = try input.read(offset..<min(input.count, offset + (1 << 20)))
                    } catch {
                        // The tool sees its input end early and fails; this says why.
                        return "input \(position + 1) could not be read: \(error)"
                    }
                    var done = 0
                    while done < chunk.count {
                        let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress! + done, chunk.count - done) }
                        if written < 0 && errno == EINTR { continue }
                        if written <= 0 { return nil }  // the tool stopped reading; its status tells
                        done += written
                    }
                    offset += chunk.count
                }
                return nil
            }
        }
        let stderrFD = pipes[stderrPipe].read
        pipes[stderrPipe].read = -1
        let errors = Self.thread { () -> [UInt8] in
            let all = Self.readAll(stderrFD, limit: Int.max, keepLast: 4096)
            close(stderrFD)
            return all.bytes
        }
        // A tool that hangs is killed after `timeout`; its pipes then close and everything below ends.
        let finished = Flag()
        let killed = Flag()
        let child = pid
        let watchdog = Self.thread {
            let deadline = Date().addingTimeInterval(timeout)
            while !finished.isSet {
                if Date() > deadline {
                    killed.set()
                    kill(child, SIGKILL)
                    return
                }
                usleep(100_000)
            }
        }
        let stdoutFD = pipes[stdoutPipe].read
        let output = Self.readAll(stdoutFD, limit: outputLimit, keepLast: nil)
        if output.overflowed { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        finished.set()
        watchdog.wait()
        if killed.isSet {
            for writer in writers { _ = writer.wait() }
            throw Failure(description: "\(executable) took more than \(Int(timeout)) s and was stopped")
        }
        let unread = writers.compactMap { $0.wait() }
        if let first = unread.first { throw Failure(description: first) }
        let stderr = String(decoding: errors.wait(), as: UTF8.self)
        if output.overflowed {
            throw Failure(description: "\(executable) wrote more than \(outputLimit) bytes")
        }
        // WIFEXITED / WEXITSTATUS, spelt out: the macros are not imported.
        let exited = status & 0x7F == 0
        return Output(status: exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F), stdout: output.bytes, stderr: stderr)
    }

    private static func readAll(_ fd: Int32, limit: Int, keepLast: Int?) -> (bytes: [UInt8], overflowed: Bool) {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes += chunk[0..<count]
            if let keepLast, bytes.count > keepLast * 2 { bytes.removeFirst(bytes.count - keepLast) }
            if bytes.count > limit { return (bytes, true) }
        }
        if let keepLast, bytes.count > keepLast { bytes.removeFirst(bytes.count - keepLast) }
        return (bytes, false)
    }

    final class Flag: Sendable {
        private let value = Atomic<Bool>(false)
        var isSet: Bool { value.load(ordering: .relaxed) }
        func set() { value.store(true, ordering: .relaxed) }
    }

    /// A thread running `work`, and a way to wait for its result.
    final class Joined<T: Sendable>: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        private var result: T?
        init(_ work: @escaping @Sendable () -> T) {
            Thread.detachNewThread { [self] in
                result = work()
                done.signal()
            }
        }
        func wait() -> T {
            done.wait()
            return result!
        }
    }

    static func thread<T: Sendable>(_ work: @escaping @Sendable () -> T) -> Joined<T> { Joined(work) }

    /// Runs blocking `work` on a thread of its own, so a long tool run holds no thread of the pool.
    static func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try work() })
            }
        }
    }
}
