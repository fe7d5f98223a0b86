import Hummingbird
import Logging

/// The collector's HTTP application: the admin API now; agent, storage and player routes join it.
public enum CollectorApplication {
    public static func router(collector: Collector) -> Router<CollectorContext> {
        let router = Router(context: CollectorContext.self)
        router.add(middleware: JSONErrorMiddleware())
        router.get("healthz") { _, _ in "ok" }
        AdminAPI(collector: collector).register(on: router)
        return router
    }

    /// `onListening` receives the bound address ("127.0.0.1:8443"), useful with port 0.
    public static func make(
        collector: Collector, host: String, port: Int, logger: Logger,
        onListening: @escaping @Sendable (String) -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router(collector: collector),
            configuration: .init(address: .hostname(host, port: port), serverName: "recorder-collector"),
            onServerRunning: { channel in
                if let address = channel.localAddress, let ip = address.ipAddress, let port = address.port {
                    onListening("\(ip):\(port)")
                }
            },
            logger: logger)
    }
}
