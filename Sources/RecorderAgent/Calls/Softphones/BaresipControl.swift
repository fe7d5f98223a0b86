import Foundation
import Glibc
import Logging
import RecorderCore
import Synchronization

/// The agent as the client of a baresip softphone's `ctrl_tcp` socket on this workstation
/// (`softphone` in the configuration, or `record --baresip 127.0.0.1:4444`). Its calls become local
/// events (`BaresipCalls`), which go to the state machine as the local socket's do. A softphone
/// that is not running yet, restarts or drops the connection is waited for. After each reconnect the
/// calls that ended meanwhile are closed.
///
/// `ctrl_tcp` has no authentication and serves one client at a time, so only a loopback address is
/// accepted. Another client taking the socket over is logged, and the agent takes it back after a
/// growing pause (1 to 30 s).
public final class BaresipControl: Sendable {
    public let host: String
    public let port: UInt16
    private let logger: Logger
    private let connection = Mutex<Int32>(-1)
    private let stopped = Atomic<Bool>(false)

    public struct InvalidAddress: Error, CustomStringConvertible {
        public let description: String
    }

    /// `address` is `HOST:PORT` with a loopback IPv4 host (127.x.x.x or localhost).
    public init(address: String, logger: Logger) throws {
        (host, port) = try Self.endpoint(address)
        self.logger = logger
    }

    /// The host and port of a control address, or what is wrong with it.
    public static func endpoint(_ address: String) throws -> (host: String, port: UInt16) {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]), port > 0
        else {
            throw InvalidAddress(
                description: "softphone control address \"\(OutsideText.bounded(address, limit: 80))\": expected HOST:PORT, e.g. 127.0.0.1:4444")
        }
        let host = String(address[..<colon])
        guard host == "localhost" || host.hasPrefix("127.") && inet_addr(host) != INADDR_NONE else {
            throw InvalidAddress(
                description:
                    "softphone control address \(OutsideText.bounded(address, limit: 80)): baresip's ctrl_tcp has no authentication, so only a loopback host (127.0.0.1) is accepted; set ctrl_tcp_listen 127.0.0.1:PORT in baresip's config"
            )
        }
        return (host == "localhost" ? "127.0.0.1" : host, port)
    }

    /// The softphone's calls as local events, until the consumer stops.
    public func inputs() -> AsyncStream<CallInput> {
        AsyncStream { continuation in
            let thread = Thread { [self] in
                follow { continuation.yield(.local($0)) }
                continuation.finish()
            }
            thread.name = "baresip-control"
            thread.start()
            continuation.onTermination = { [self] _ in
                stopped.store(true, ordering: .sequentiallyConsistent)
                connection.withLock { if $0 >= 0 { shutdown($0, Int32(SHUT_RDWR)) } }
            }
        }
    }

    private func follow(_ yield: (CallEvent) -> Void) {
        var calls = BaresipCalls()
        var pause: TimeInterval = 1
        var waitingLogged = false
        while !stopped.load(ordering: .sequentiallyConsistent) {
            guard let descriptor = connect() else {
                if !waitingLogged {
                    logger.notice("waiting for the softphone", metadata: ["control": "\(host):\(port)"])
                    waitingLogged = true
                }
                wait(seconds: 2)
                continue
            }
            waitingLogged = false
            logger.info("following the softphone", metadata: ["control": "\(host):\(port)", "softphone": "baresip"])
            let since = Date()
            // First, which calls are still there: one may have closed while the agent was not listening.
            send(descriptor, BaresipCalls.listCommand)
            serve(descriptor, &calls, yield)
            connection.withLock {
                close($0)
                $0 = -1
            }
            guard !stopped.load(ordering: .sequentiallyConsistent) else { break }
            // A connection that lasted is a softphone that restarted; one dropped at once may be another
            // client taking the single-client socket: come back ever more slowly.
            pause = Date().timeIntervalSince(since) > 30 ? 1 : min(pause * 2, 30)
            logger.notice(
                "the softphone closed its control connection; reconnecting",
                metadata: ["control": "\(host):\(port)", "after_seconds": "\(Int(pause))"])
            wait(seconds: pause)
        }
    }

    private func serve(_ descriptor: Int32, _ calls: inout BaresipCalls, _ yield: (CallEvent) -> Void) {
        var framing = Netstring()
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return }
            let frames: [[UInt8]]
            do {
                frames = try framing.feed(buffer[0..<count])
            } catch {
                logger.warning("the softphone's control socket sent something unreadable", metadata: ["error": "\(error)"])
                return
            }
            for frame in frames {
                let outcome = calls.handle(frame, now: Date())
                if let problem = outcome.problem { logger.notice("softphone message skipped", metadata: ["why": "\(problem)"]) }
                for event in outcome.events { yield(event) }
                if outcome.askCalls { send(descriptor, BaresipCalls.listCommand) }
            }
        }
    }

    private func connect() -> Int32? {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr(host)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(descriptor)
            return nil
        }
        // Published for onTermination's shutdown; a stop that came while connecting ends it here.
        connection.withLock { $0 = descriptor }
        if stopped.load(ordering: .sequentiallyConsistent) { shutdown(descriptor, Int32(SHUT_RDWR)) }
        return descriptor
    }

    /// MSG_NOSIGNAL: a softphone gone between two messages must not kill the agent (SIGPIPE).
    private func send(_ descriptor: Int32, _ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    private func wait(seconds: TimeInterval) {
        let until = Date().addingTimeInterval(seconds)
        while Date() < until, !stopped.load(ordering: .sequentiallyConsistent) {
            Thread.sleep(forTimeInterval: 0.1)
        }
    }
}
