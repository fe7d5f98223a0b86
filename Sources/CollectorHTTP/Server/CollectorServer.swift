import CollectorCore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

/// The collector's composition root: its HTTP server (admin API, agent API, built-in store) and,
/// as they come, its background jobs, in one `ServiceGroup` whose order is stated here. The CLI only
/// parses flags and runs it. Jobs start after the server and, since a group shuts down in reverse,
/// stop before it; the catalog closes when everything has stopped.
public struct CollectorServer: Sendable {
    /// Each service's part, in start order (shutdown runs backwards).
    public enum Role: String, Sendable, CaseIterable {
        case http
        /// Wakes waiting agents for events other collectors accepted (`DeliveryWatch`).
        case deliveryWatch
        /// Matches calls with their voice and screen as they change (`CorrelationJob`).
        case correlation
        /// Picks up voice recordings dropped over WebDAV (`VoiceDrop`).
        case voiceDrop
        /// Signs the audit chain's head once a minute (`AuditChain`).
        case auditCheckpoints
    }

    public let collector: Collector
    public let tls: CollectorTLS?
    private let configuration: CollectorConfiguration
    private let publicURL: String?
    private let logger: Logger
    private let onListening: @Sendable (String) -> Void

    /// `onListening` receives the bound address ("127.0.0.1:8443"), useful with port 0.
    public init(
        collector: Collector, configuration: CollectorConfiguration, publicURL: String?, logger: Logger,
        onListening: @escaping @Sendable (String) -> Void = { _ in }
    ) throws {
        self.collector = collector
        self.configuration = configuration
        self.publicURL = publicURL
        self.logger = logger
        self.onListening = onListening
        tls = try CollectorServer.tls(for: configuration, logger: logger)
    }

    /// No TLS (behind a local proxy), the admin's certificate, or the collector's own CA in `<data>/tls`.
    static func tls(for configuration: CollectorConfiguration, logger: Logger) throws -> CollectorTLS? {
        if configuration.plainHTTP {
            logger.warning("serving plain HTTP: only safe behind a TLS-terminating proxy on this host")
            return nil
        }
        if let certificate = configuration.tlsCertificate, let key = configuration.tlsKey {
            return try CollectorTLS.configured(certificate: certificate, key: key)
        }
        return try CollectorTLS.selfManaged(
            in: URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("tls"),
            hostnames: configuration.tlsHostnames ?? CollectorTLS.defaultHostnames())
    }

    public var roles: [Role] { Role.allCases }

    /// Runs until `signals` (the CLI: SIGTERM, SIGINT) or a failure, then closes the catalog.
    public func run(signals: [UnixSignal] = [.sigterm, .sigint]) async throws {
        let application = try CollectorApplication.make(
            collector: collector, host: configuration.host, port: configuration.port, tls: tls, publicURL: publicURL,
            limits: configuration.connectionLimits, logger: logger, onListening: onListening)
        let services: [ServiceGroupConfiguration.ServiceConfiguration] = roles.map { role in
            switch role {
            case .http: .init(service: application)
            case .deliveryWatch: .init(service: DeliveryWatch(collector: collector, logger: logger))
            case .correlation: .init(service: CorrelationService(job: CorrelationJob(collector: collector), logger: logger))
            case .voiceDrop: .init(service: VoiceDropService(collector: collector, logger: logger))
            case .auditCheckpoints: .init(service: AuditCheckpointService(collector: collector, logger: logger))
            }
        }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: signals, logger: logger))
        do {
            try await group.run()
        } catch {
            await collector.close()
            throw error
        }
        await collector.close()
    }
}
