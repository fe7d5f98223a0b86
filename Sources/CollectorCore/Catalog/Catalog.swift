import AsyncKit
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLKit
import SQLiteKit

/// The collector's SQL catalog: one code path (SQLKit) over SQLite or PostgreSQL. Everything that
/// matters lives here, never only in a collector's memory, so several collectors can share a
/// PostgreSQL catalog.
public final class Catalog: Sendable {
    public let location: DatabaseLocation
    /// For statements that need no transaction.
    public let sql: any SQLDatabase
    private let shutdownDriver: @Sendable () async -> Void

    /// The schema version this build migrates to.
    public static var schemaVersion: Int { Migrations.latestVersion }

    public var isPostgres: Bool {
        if case .postgres = location { return true }
        return false
    }

    private init(location: DatabaseLocation, sql: any SQLDatabase, shutdown: @escaping @Sendable () async -> Void) {
        self.location = location
        self.sql = sql
        self.shutdownDriver = shutdown
    }

    /// Opens the database and brings its schema up to date (`Migrations`).
    public static func open(_ location: DatabaseLocation, logger: Logger) async throws -> Catalog {
        let catalog: Catalog
        switch location {
        case .sqlite(let path):
            let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
            let database = connection.sql()
            try await database.raw("PRAGMA foreign_keys = ON").run()
            try await database.raw("PRAGMA journal_mode = WAL").run()
            // Another process (the CLI beside the server) may hold the write lock for a moment.
            try await database.raw("PRAGMA busy_timeout = 10000").run()
            catalog = Catalog(
                location: location, sql: SerializedDatabase(connection: database, turn: AsyncTurn()),
                shutdown: { try? await connection.close() })
        case .postgres(let url):
            let configuration = try SQLPostgresConfiguration(url: url)
            let pool = PoolBox(
                EventLoopGroupConnectionPool(
                    source: PostgresConnectionSource(sqlConfiguration: configuration), maxConnectionsPerEventLoop: 4,
                    logger: logger, on: MultiThreadedEventLoopGroup.singleton))
            catalog = Catalog(
                location: location, sql: pool.pool.database(logger: logger).sql(),
                shutdown: { try? await pool.pool.shutdownAsync() })
        }
        do {
            try await Migrations.apply(to: catalog, logger: logger)
        } catch {
            await catalog.close()
            throw error
        }
        return catalog
    }

    /// Runs `body` in one transaction on one connection: all of it is written, or none of it.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws
        -> T
    {
        // SQLite: the write lock is taken at BEGIN. A transaction that first reads and then writes
        // would otherwise fail (SQLITE_BUSY_SNAPSHOT, not retried) when another process, such as the
        // CLI beside a running collector, wrote in between; this way it waits its turn (busy_timeout).
        let begin: SQLQueryString = isPostgres ? "BEGIN" : "BEGIN IMMEDIATE"
        return try await sql.withSession { database in
            try await database.raw(begin).run()
            do {
                let result = try await body(database)
                try await database.raw("COMMIT").run()
                return result
            } catch {
                try? await database.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    /// Closes the connection (or pool). Done in a task of its own: a caller whose task is being
    /// cancelled (a service group cancelled, not shut down gracefully) still closes it for real.
    public func close() async {
        let shutdown = shutdownDriver
        await Task { await shutdown() }.value
    }
}

/// AsyncKit's pool is thread-safe but not marked Sendable.
private final class PoolBox: @unchecked Sendable {
    let pool: EventLoopGroupConnectionPool<PostgresConnectionSource>
    init(_ pool: EventLoopGroupConnectionPool<PostgresConnectionSource>) { self.pool = pool }
}
