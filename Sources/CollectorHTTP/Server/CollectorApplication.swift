import CollectorCore
import CollectorStore
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOSSL
import RecorderCore
import Synchronization
import WebDAV

/// How agents reach this collector. Set from `--public-url`, or once the server listens (so a port 0
/// in tests becomes the real one); read when an agent's configuration is built.
public final class PublicURL: Sendable {
    private let value: Mutex<String>
    public init(_ url: String) { value = Mutex(url) }
    public var url: String { value.withLock { $0 } }
    func set(_ url: String) { value.withLock { $0 = url } }
}

/// The collector's HTTP application: admin API, agent API, the built-in store.
public enum CollectorApplication {
    /// `publicURL`: how agents reach this collector (the built-in store is `publicURL/dav`); `caPEM`:
    /// the CA agents pin, when the collector made its own.
    public static func router(
        collector: Collector, publicURL: PublicURL = PublicURL("https://localhost:8443"), caPEM: String? = nil,
        throttle: FailureThrottle = FailureThrottle()
    ) throws -> Router<CollectorContext> {
        let router = Router(context: CollectorContext.self)
        router.add(middleware: JSONErrorMiddleware())
        router.get("healthz") { _, _ in "ok" }
        let guards = AuthenticationGuards(collector: collector, throttle: throttle)
        AdminAPI(collector: collector, guards: guards).register(on: router)
        AgentAPI(collector: collector, guards: guards, publicURL: publicURL, caPEM: caPEM).register(on: router)
        SegmentAPI(collector: collector).register(on: router)
        let calls = CallAPI(collector: collector, guards: guards)
        calls.register(on: router)
        VoiceAPI(collector: collector, calls: calls).register(on: router)
        PlaybackAPI(collector: collector).register(on: router)
        ReviewAPI(collector: collector).register(on: router)
        ExportAPI(collector: collector).register(on: router)
        try WebApp().register(on: router)
        let store = StoreAPI(collector: collector, store: try collector.builtinStore(), guards: guards)
        for method in StoreAPI.methods {
            for pattern in ["dav", "dav/**"] {
                router.on(RouterPath(pattern), method: method) { request, context in
                    try await store.handle(request, source: context.remoteAddress, pace: context.pace)
                }
            }
        }
        return router
    }

    /// `onListening` receives the bound address ("127.0.0.1:8443"), useful with port 0. With `tls`
    /// nil the server speaks plain HTTP (tests through the router, or behind a local TLS proxy).
    public static func make(
        collector: Collector, host: String, port: Int, tls: CollectorTLS? = nil, publicURL: String? = nil,
        limits: ConnectionLimits = .standard, logger: Logger,
        onListening: @escaping @Sendable (String) -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let counter = ConnectionCounter(limits: limits)
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionGuardHandler(counter: counter, logger: logger), WritabilityWaiter()])
        var server = HTTPServerBuilder.http1(configuration: http1)
        if let tls {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificateChainPath).map {
                NIOSSLCertificateSource.certificate($0)
            }
            let key = try NIOSSLPrivateKey(file: tls.privateKeyPath, format: .pem)
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(key))
            configuration.minimumTLSVersion = .tlsv12
            server = try .tls(.http1(configuration: http1), tlsConfiguration: configuration)
        }
        let scheme = tls == nil ? "http" : "https"
        let reachable = PublicURL(publicURL ?? "\(scheme)://\(host == "0.0.0.0" ? "localhost" : host):\(port)")
        return Application(
            router: try router(
                collector: collector, publicURL: reachable,
                caPEM: try tls?.caPath.map { try String(contentsOfFile: $0, encoding: .utf8) }),
            server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: "recorder-collector"),
            onServerRunning: { channel in
                if let address = channel.localAddress, let ip = address.ipAddress, let bound = address.port {
                    if publicURL == nil {
                        let name = host == "0.0.0.0" ? "localhost" : ip.contains(":") ? "[\(ip)]" : ip
                        reachable.set("\(scheme)://\(name):\(bound)")
                    }
                    onListening("\(ip):\(bound)")
                }
            },
            logger: logger)
    }
}
