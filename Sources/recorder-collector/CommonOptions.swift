import ArgumentParser
import CollectorCore
import Foundation
import Logging

/// Where the collector's state is: the same flags for `serve` and the admin commands.
struct CommonOptions: ParsableArguments {
    @Option(help: "JSON configuration file (data_directory, database, host, port).")
    var config: String?

    @Option(name: .customLong("data-dir"), help: "Data directory (catalog, keys). Env: RECORDER_COLLECTOR_DATA_DIR.")
    var dataDirectory: String?

    @Option(
        help:
            "Catalog: sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB (default: SQLite in the data directory). Env: RECORDER_COLLECTOR_DATABASE."
    )
    var database: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "notice"

    func configuration(host: String? = nil, port: Int? = nil) throws -> CollectorConfiguration {
        do {
            var configuration = try CollectorConfiguration.load(
                file: config, environment: ProcessInfo.processInfo.environment)
            try configuration.apply(
                dataDirectory: dataDirectory, database: database, host: host, port: port.map(String.init),
                source: "flags")
            return configuration
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func logger() throws -> Logger {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level \(logLevel): use trace, debug, info, notice, warning, error or critical")
        }
        // Logs go to stderr; stdout carries what a person or a script reads (the first admin's password,
        // the listening address, command results).
        var logger = Logger(label: "recorder-collector") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = level
        return logger
    }

    func openCollector(_ configuration: CollectorConfiguration) async throws -> Collector {
        try await Collector.open(
            dataDirectory: URL(fileURLWithPath: configuration.dataDirectory, isDirectory: true),
            database: configuration.database, logger: try logger())
    }
}
