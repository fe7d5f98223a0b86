import ArgumentParser
import CollectorCore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// `recorder-collector serve`: the service. On a fresh data directory it creates the catalog, the
/// built-in storage target, the root node path and a first admin, whose password it prints once.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the collector service.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Address to listen on. Env: RECORDER_COLLECTOR_HOST.")
    var host: String?

    @Option(help: "Port to listen on (default 8443). Env: RECORDER_COLLECTOR_PORT.")
    var port: Int?

    func run() async throws {
        let configuration = try common.configuration(host: host, port: port)
        let logger = try common.logger()
        let collector = try await common.openCollector(configuration)
        if let admin = try await collector.bootstrap() {
            FileHandle.standardOutput.write(
                Data(
                    """
                    First start: created admin user "\(admin.username)" with password:
                        \(admin.password)
                    It is shown only this once; log in and create your own admins (POST /api/v1/admin/users).

                    """.utf8))
        }
        let application = CollectorApplication.make(
            collector: collector, host: configuration.host, port: configuration.port, logger: logger
        ) { address in
            // Written straight to the file descriptor: a test or a script waits for this line.
            FileHandle.standardOutput.write(
                Data("recorder-collector listening on http://\(address) (catalog \(collector.catalog.location))\n".utf8)
            )
        }
        do {
            try await application.runService()
        } catch {
            await collector.close()
            throw error
        }
        await collector.close()
    }
}
