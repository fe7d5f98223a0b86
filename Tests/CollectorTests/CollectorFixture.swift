import CollectorCore
import Foundation
import Logging
import TestSupport
import Testing

/// The two catalogs every catalog test runs against.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// One PostgreSQL server for the whole test process (each test gets a database of its own), stopped
/// when the process exits.
enum SharedPostgres {
    static let server: Result<PostgresServer, any Error> = {
        let result = Result { try PostgresServer() }
        atexit { SharedPostgres.stop() }
        return result
    }()

    static func stop() {
        if case .success(let server) = server { server.stop() }
    }
}

/// A collector on a fresh data directory and a fresh database of the given kind.
/// With `directory`, a collector on an existing data directory (its store and keys) and a new database:
/// what an admin has after losing the catalog.
func makeCollector(_ backend: Backend, directory: URL? = nil) async throws -> Collector {
    let directory =
        directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("collector-\(UUID().uuidString)")
    if backend == .sqlite {
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent("catalog.sqlite" + suffix))
        }
    }
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    let database: DatabaseLocation? =
        switch backend {
        case .sqlite: nil
        case .postgres: .postgres(url: try SharedPostgres.server.get().makeDatabase())
        }
    return try await Collector.open(
        dataDirectory: directory, database: database, hashing: .fast, recordingKeyBits: 2048, logger: logger)
}

/// Runs `body` with a collector and closes it afterwards, also when `body` throws: a `defer` cannot
/// await, and a `Task` started in one outlives the test (and closes the catalog under the next one).
func withCollector<T>(
    _ backend: Backend, directory: URL? = nil, _ body: (Collector) async throws -> T
) async throws -> T {
    let collector = try await makeCollector(backend, directory: directory)
    do {
        let result = try await body(collector)
        await collector.close()
        return result
    } catch {
        await collector.close()
        throw error
    }
}

let adminActor = Actor(name: "user:alice", source: "192.0.2.7")
