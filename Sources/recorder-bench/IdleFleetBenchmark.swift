import ArgumentParser
import CollectorCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import RecorderCore
import Synchronization
import TestSupport

/// What one collector pays to hold a fleet of agents that wait for calls: each simulated agent keeps
/// its long poll open over HTTPS (`GET /api/v1/agent/call-events?wait=25`, asked again as soon as it
/// is answered) and sends its heartbeat every 60 s on the same connection, as the real agent's two
/// loops would (one connection each there; one here, to stay within this machine's descriptors).
/// Enrolled through the collector's own code; the collector process and the clients share the 2 cores.
struct IdleFleetBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle-agents", abstract: "Collector CPU and RSS with N agents waiting for calls.")

    @Option(help: "Fleet sizes, comma-separated.") var agents = "1000,5000"
    @Option(help: "Seconds measured once every agent is connected.") var seconds = 60.0

    func run() throws {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        print("agents   connected   collector core   RSS MB (peak)   polls answered/s   heartbeats/s   errors")
        for size in agents.split(separator: ",").compactMap({ Int($0) }) {
            try measure(size)
        }
    }

    private func measure(_ size: Int) throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("bench-fleet-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        let tokens = try Self.enrol(size, in: data)
        let configuration = data.appendingPathComponent("collector.json")
        try Data(
            #"{"connection_limits":{"max_connections":\#(size + 1000),"max_connections_per_address":\#(size + 1000)}}"#.utf8
        ).write(to: configuration)
        let collector = try CollectorProcess(dataDirectory: data.path, arguments: ["--config", configuration.path])
        defer { collector.stop() }
        let url = URL(string: collector.url)!
        let stats = FleetStatistics()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(collector.caFile))
        // The collector's certificate names 127.0.0.1 among its hosts; the bench connects by address.
        tls.certificateVerification = .noHostnameVerification
        let context = try NIOSSLContext(configuration: tls)
        var channels: [any Channel] = []
        for (index, token) in tokens.enumerated() {
            let agent = FleetAgentHandler(
                token: token, stats: stats, firstHeartbeat: .now() + .milliseconds(Int64(index * 60_000 / size)))
            let bootstrap = ClientBootstrap(group: group).channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        try NIOSSLClientHandler(context: context, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(agent)
                }
            }
            channels.append(try bootstrap.connect(host: url.host!, port: url.port!).wait())
        }
        // Every handshake done and the first heartbeats in, then the quiet state is measured.
        Thread.sleep(forTimeInterval: 10)
        let before = (collector.cpuSeconds, stats.snapshot)
        let started = Date()
        Thread.sleep(forTimeInterval: seconds)
        let elapsed = Date().timeIntervalSince(started)
        let after = (collector.cpuSeconds, stats.snapshot)
        let connected = channels.filter(\.isActive).count
        print(
            String(
                format: "%6d   %9d   %14.3f   %6d (%d)   %16.1f   %12.1f   %6d", size, connected,
                (after.0 - before.0) / elapsed, collector.residentKB / 1024, collector.peakResidentKB / 1024,
                Double(after.1.polls - before.1.polls) / elapsed,
                Double(after.1.heartbeats - before.1.heartbeats) / elapsed, after.1.errors))
        for channel in channels { channel.close(promise: nil) }
    }

    /// `size` agents enrolled through the collector's own code path, before the server starts.
    static func enrol(_ size: Int, in data: URL) throws -> [String] {
        let result = Mutex<Result<[String], any Error>>(.success([]))
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                var logger = Logger(label: "bench")
                logger.logLevel = .warning
                let collector = try await Collector.open(dataDirectory: data, logger: logger)
                let actor = Actor(name: "bench", source: "127.0.0.1")
                var tokens: [String] = []
                for index in 0..<size {
                    let code = try await collector.agents.makeCode(nodePath: "/bench", by: actor)
                    tokens.append(
                        try await collector.agents.enrol(
                            code: code.code, agentId: "fleet-\(index)", hostname: "fleet-\(index).bench",
                            signingKey: ManifestSigner.generate().publicKeyBase64, source: "127.0.0.1"
                        ).token)
                }
                await collector.close()
                result.withLock { $0 = .success(tokens) }
            } catch {
                result.withLock { $0 = .failure(error) }
            }
            done.signal()
        }
        done.wait()
        return try result.withLock { $0 }.get()
    }
}

final class FleetStatistics: Sendable {
    struct Counts: Sendable {
        var polls = 0
        var heartbeats = 0
        var errors = 0
    }

    private let counts = Mutex(Counts())
    var snapshot: Counts { counts.withLock { $0 } }
    func add(_ change: (inout Counts) -> Void) { counts.withLock { change(&$0) } }
}

/// One waiting agent on one kept-alive connection: long poll, answered, again; a heartbeat when due.
final class FleetAgentHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let token: String
    let stats: FleetStatistics
    private var nextHeartbeat: NIODeadline
    private var inFlight: String?
    private var cursor: Int64 = 0

    init(token: String, stats: FleetStatistics, firstHeartbeat: NIODeadline) {
        self.token = token
        self.stats = stats
        nextHeartbeat = firstHeartbeat
    }

    func channelActive(context: ChannelHandlerContext) {
        sendNext(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if head.status != .ok { stats.add { $0.errors += 1 } }
        case .body:
            break
        case .end:
            let finished = inFlight
            stats.add { finished == "heartbeat" ? ($0.heartbeats += 1) : ($0.polls += 1) }
            sendNext(context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        stats.add { $0.errors += 1 }
        context.close(promise: nil)
    }

    private func sendNext(_ context: ChannelHandlerContext) {
        var headers = HTTPHeaders([("Host", "127.0.0.1"), ("Authorization", "Bearer \(token)")])
        if NIODeadline.now() >= nextHeartbeat {
            nextHeartbeat = .now() + .seconds(60)
            inFlight = "heartbeat"
            let body = (try? StrictJSON.encode(
                AgentHeartbeat(roundTripMs: 1, state: .idle, spoolSegments: 0, spoolBytes: 0, lastError: nil, lastErrorAt: nil)))
                ?? Data()
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: "\(body.count)")
            context.write(
                wrapOutboundOut(.head(.init(version: .http1_1, method: .POST, uri: "/api/v1/agent/heartbeat", headers: headers))),
                promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        } else {
            inFlight = "poll"
            context.write(
                wrapOutboundOut(
                    .head(.init(version: .http1_1, method: .GET, uri: "/api/v1/agent/call-events?after=\(cursor)&wait=25", headers: headers))),
                promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
