import ArgumentParser
import CollectorCore
import CollectorHTTP
import Foundation
import Logging

/// `recorder-collector serve`: the service. On a fresh data directory it creates the catalog, the
/// built-in storage target, the root node path and a first admin, whose password it prints once.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the collector service.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Address to listen on. Env: RECORDER_COLLECTOR_HOST.")
    var host: String?

    @Option(help: "Port to listen on (default 8443). Env: RECORDER_COLLECTOR_PORT.")
    var port: Int?

    @Option(help: "PEM certificate chain to serve (default: the collector's own CA in <data>/tls).")
    var tlsCertificate: String?

    @Option(help: "PEM private key of --tls-certificate.")
    var tlsKey: String?

    @Option(name: .customLong("tls-hostname"), help: "A name agents use to reach this collector (repeatable).")
    var tlsHostnames: [String] = []

    @Option(help: "How agents reach this collector, e.g. https://collector.example:8443 (default: https://HOST:PORT).")
    var publicURL: String?

    @Flag(help: "Serve plain HTTP (only behind a TLS-terminating proxy on this host).")
    var plainHTTP = false

    func run() async throws {
        var configuration = try common.configuration(host: host, port: port)
        configuration.tlsCertificate = tlsCertificate ?? configuration.tlsCertificate
        configuration.tlsKey = tlsKey ?? configuration.tlsKey
        if !tlsHostnames.isEmpty { configuration.tlsHostnames = tlsHostnames }
        configuration.plainHTTP = plainHTTP || configuration.plainHTTP
        do {
            try configuration.validateTLS(source: "flags")
        } catch {
            throw ValidationError("\(error)")
        }
        let logger = try common.logger()
        let collector = try await common.openCollector(configuration)
        if let admin = try await collector.bootstrap() {
            // Into a 0600 file, not onto stdout: under systemd stdout is the journal, readable by more
            // people than the admin.
            let file = URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent(
                "initial-admin-password")
            guard
                FileManager.default.createFile(
                    atPath: file.path, contents: Data("\(admin.password)\n".utf8),
                    attributes: [.posixPermissions: 0o600])
            else { throw ValidationError("cannot write \(file.path); check the data directory's permissions") }
            FileHandle.standardOutput.write(
                Data(
                    """
                    First start: created admin user "\(admin.username)"; its password is in \(file.path) (mode 0600).
                    Log in, create your own admins (POST /api/v1/admin/users), then delete that file.

                    """.utf8))
        }
        let scheme = configuration.plainHTTP ? "http" : "https"
        let server = try CollectorServer(
            collector: collector, configuration: configuration, publicURL: publicURL, logger: logger
        ) { address in
            // Written straight to the file descriptor: a test or a script waits for this line.
            FileHandle.standardOutput.write(
                Data(
                    "recorder-collector listening on \(scheme)://\(address) (catalog \(collector.catalog.location))\n"
                        .utf8))
        }
        if let tls = server.tls {
            let ca = tls.caPath.map { "\nCA certificate: \($0)" } ?? ""
            FileHandle.standardOutput.write(
                Data("TLS fingerprint (SHA-256; agents pin it at enrolment): \(tls.fingerprint)\(ca)\n".utf8))
        }
        try await server.run()
    }
}
