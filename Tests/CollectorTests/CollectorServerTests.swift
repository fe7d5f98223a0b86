import CollectorCore
import CollectorHTTP
import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

/// The collector's services composed in the library: the server runs in this process, answers over
/// its own TLS, and stops when its task is cancelled, closing the catalog (it did not before: the
/// close ran in the cancelled task and SQLite's connection was torn down open).
struct CollectorServerTests {
    @Test func theServerRunsInProcessAndStopsWhenCancelled() async throws {
        let collector = try await makeCollector(.sqlite)
        let configuration = try CollectorConfiguration.load(
            file: nil,
            environment: ["RECORDER_COLLECTOR_DATA_DIR": collector.dataDirectory.path, "RECORDER_COLLECTOR_PORT": "0"])
        let address = Mutex<String?>(nil)
        // Cancellation (not a graceful stop) makes Hummingbird log errors about its child channels.
        var logger = Logger(label: "server-test")
        logger.logLevel = .critical
        let server = try CollectorServer(
            collector: collector, configuration: configuration, publicURL: nil, logger: logger
        ) { bound in address.withLock { $0 = bound } }
        #expect(
            server.roles == [.http, .deliveryWatch, .correlation, .voiceDrop, .auditCheckpoints],
            "the HTTP server starts first and stops last")
        let ca = try #require(server.tls?.caPath, "a fresh data directory gets the collector's own CA")
        let running = Task { try await server.run(signals: []) }
        var bound: String?
        for _ in 0..<500 where bound == nil {
            try await Task.sleep(for: .milliseconds(20))
            bound = address.withLock { $0 }
        }
        let port = try #require(bound?.split(separator: ":").last, "the server never said where it listens")
        let health = try ProcessRunner.run(
            "curl", ["-s", "--cacert", ca, "--max-time", "10", "https://127.0.0.1:\(port)/healthz"])
        #expect(health.stdout == "ok", "\(health.stderr)")
        running.cancel()
        try? await running.value
        let after = try ProcessRunner.run(
            "curl", ["-s", "--cacert", ca, "--max-time", "5", "https://127.0.0.1:\(port)/healthz"])
        #expect(after.status != 0, "nothing listens once the server has stopped")
    }
}
