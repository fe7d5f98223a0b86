import Foundation
import Glibc
import Logging
import RecorderCore
import Synchronization

/// Call events from programs on this workstation (a softphone's plugin, a CTI toolbar,
/// `recorder-agent event`): a UNIX socket in the agent's state directory, `agent.sock`, 0600 and
/// answering only the agent's own user (SO_PEERCRED). One event of the contract per line (at most
/// 64 KiB); each line gets one answer line, `{"accepted":true}` or `{"error":"…"}`. Local events
/// skip the collector, so they reach the state machine at once; their ids are kept apart from the
/// collector's (`local/…`) and a reconnect to the collector never closes their legs.
public final class LocalEventSocket: Sendable {
    public let path: String
    private let listener: Int32
    private let logger: Logger
    private let clients = ClientCount()

    /// Connections being served now.
    final class ClientCount: Sendable {
        private let count = Mutex(0)
        func add() -> Bool {
            count.withLock {
                guard $0 < 16 else { return false }
                $0 += 1
                return true
            }
        }
        func remove() { count.withLock { $0 -= 1 } }
    }

    public static func path(stateDirectory: String) -> String {
        URL(fileURLWithPath: stateDirectory).appendingPathComponent("agent.sock").path
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Binds the socket (replacing a stale one left by a crash).
    public init(stateDirectory: String, logger: Logger) throws {
        let path = Self.path(stateDirectory: stateDirectory)
        self.path = path
        self.logger = logger
        var address = try Self.address(path)
        let descriptor = try Self.streamSocket()
        unlink(path)
        // 0600 before it listens; until then nobody can connect, and the state directory is 0700 anyway.
        // (Not umask: it is the whole process's, and other threads create files.)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, chmod(path, 0o600) == 0, listen(descriptor, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw Failure(description: "cannot listen on \(path): \(reason)")
        }
        listener = descriptor
    }

    /// Events as local programs send them, until the stream's consumer stops (then the socket is removed).
    public func inputs() -> AsyncStream<CallInput> {
        AsyncStream { continuation in
            let thread = Thread { [self] in
                while true {
                    let client = accept(listener, nil, nil)
                    if client < 0 {
                        // Closed by onTermination: the end. Anything else (out of descriptors, a client
                        // gone before it was accepted) passes; the socket keeps serving.
                        if errno == EBADF || errno == EINVAL { break }
                        if errno != EINTR { Thread.sleep(forTimeInterval: 0.1) }
                        continue
                    }
                    // A softphone keeps its connection open: each client is served on a thread of its own
                    // (at most 16; only this user's programs get this far anyway).
                    guard clients.add() else {
                        answer(client, #"{"error":"too many local connections"}"#)
                        close(client)
                        continue
                    }
                    let worker = Thread { [self] in
                        serve(client) { continuation.yield(.local($0)) }
                        close(client)
                        clients.remove()
                    }
                    worker.name = "local-event-client"
                    worker.start()
                }
                continuation.finish()
            }
            thread.name = "local-events"
            thread.start()
            continuation.onTermination = { [self] _ in
                // Unblocks accept() on the thread, which then ends.
                shutdown(listener, Int32(SHUT_RDWR))
                close(listener)
                unlink(path)
            }
        }
    }

    static let maxLine = 64 * 1024

    /// One connection: lines in, one answer per line; only this user's processes are answered.
    private func serve(_ client: Int32, yield: (CallEvent) -> Void) {
        // struct ucred (pid, uid, gid): Glibc hides it behind _GNU_SOURCE, its layout is fixed by Linux.
        struct PeerCredentials {
            var pid: Int32 = 0
            var uid: UInt32 = 0
            var gid: UInt32 = 0
        }
        var credentials = PeerCredentials()
        var length = socklen_t(MemoryLayout<PeerCredentials>.size)
        guard getsockopt(client, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0, credentials.uid == getuid()
        else {
            answer(client, #"{"error":"only the agent's own user may send call events"}"#)
            return
        }
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(client, &buffer, buffer.count)
            guard count > 0 else { return }
            pending += buffer[0..<count]
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                handle(line, client, yield)
            }
            if pending.count > Self.maxLine {
                answer(client, #"{"error":"a line is at most 65536 bytes"}"#)
                return
            }
        }
    }

    private func handle(_ line: [UInt8], _ client: Int32, _ yield: (CallEvent) -> Void) {
        guard !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) else { return }
        do {
            var event = try StrictJSON.decode(CallEvent.self, from: Data(line))
            event.eventId = "local/\(event.eventId)"
            event.receivedAt = AgentHeartbeat.timestamp(Date())
            yield(event)
            answer(client, #"{"accepted":true}"#)
        } catch {
            let message = String(decoding: try! StrictJSON.encode(["error": "\(error)"]), as: UTF8.self)
            logger.notice("local call event refused", metadata: ["error": "\(error)"])
            answer(client, message)
        }
    }

    /// MSG_NOSIGNAL: a client that closed before reading its answer must not kill the agent (SIGPIPE).
    private func answer(_ client: Int32, _ text: String) {
        let bytes = Array((text + "\n").utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// The socket address of `path`, which must fit `sun_path` with its NUL.
    private static func address(_ path: String) throws -> sockaddr_un {
        var address = sockaddr_un()
        guard path.utf8.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw Failure(description: "the socket path \(path) is too long for a UNIX socket; use a shorter --state-dir")
        }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            path.utf8CString.withUnsafeBytes { raw.copyMemory(from: $0) }
        }
        return address
    }

    private static func streamSocket() throws -> Int32 {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        return descriptor
    }

    /// Sends one event to the agent listening in `stateDirectory` and returns its answer line.
    public static func send(_ event: CallEvent, stateDirectory: String) throws -> String {
        let path = Self.path(stateDirectory: stateDirectory)
        var address = try Self.address(path)
        let descriptor = try Self.streamSocket()
        defer { close(descriptor) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            throw Failure(
                description:
                    "no agent is listening at \(path) (\(String(cString: strerror(errno)))): is `recorder-agent record --follow-calls` running with this state directory?"
            )
        }
        var line = Array(try StrictJSON.encode(event)) + [UInt8(ascii: "\n")]
        guard line.withUnsafeMutableBytes({ Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == line.count
        else {
            throw Failure(description: "cannot write to \(path): \(String(cString: strerror(errno)))")
        }
        var answer: [UInt8] = []
        var byte: UInt8 = 0
        while read(descriptor, &byte, 1) == 1, byte != UInt8(ascii: "\n") { answer.append(byte) }
        return String(decoding: answer, as: UTF8.self)
    }
}
