import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOSSL

/// The collector's HTTP application: the admin API now; agent, storage and player routes join it.
public enum CollectorApplication {
    /// `publicURL`: how agents reach this collector (the built-in store is `publicURL/dav`); `caPEM`:
    /// the CA agents pin, when the collector made its own.
    public static func router(collector: Collector, publicURL: String = "https://localhost:8443", caPEM: String? = nil)
        -> Router<CollectorContext>
    {
        let router = Router(context: CollectorContext.self)
        router.add(middleware: JSONErrorMiddleware())
        router.get("healthz") { _, _ in "ok" }
        AdminAPI(collector: collector).register(on: router)
        AgentAPI(collector: collector, publicURL: publicURL, caPEM: caPEM).register(on: router)
        return router
    }

    /// `onListening` receives the bound address ("127.0.0.1:8443"), useful with port 0. With `tls`
    /// nil the server speaks plain HTTP (tests through the router, or behind a local TLS proxy).
    public static func make(
        collector: Collector, host: String, port: Int, tls: CollectorTLS? = nil, publicURL: String? = nil,
        logger: Logger,
        onListening: @escaping @Sendable (String) -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        var server = HTTPServerBuilder.http1()
        if let tls {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificateChainPath).map {
                NIOSSLCertificateSource.certificate($0)
            }
            let key = try NIOSSLPrivateKey(file: tls.privateKeyPath, format: .pem)
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(key))
            configuration.minimumTLSVersion = .tlsv12
            server = try .tls(.http1(), tlsConfiguration: configuration)
        }
        return Application(
            router: router(
                collector: collector,
                publicURL: publicURL
                    ?? "\(tls == nil ? "http" : "https")://\(host == "0.0.0.0" ? "localhost" : host):\(port)",
                caPEM: try tls?.caPath.map { try String(contentsOfFile: $0, encoding: .utf8) }),
            server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: "recorder-collector"),
            onServerRunning: { channel in
                if let address = channel.localAddress, let ip = address.ipAddress, let port = address.port {
                    onListening("\(ip):\(port)")
                }
            },
            logger: logger)
    }
}
