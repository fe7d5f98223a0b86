import Logging
import NIOCore
import SQLKit

/// One SQLite connection shared by the whole collector, with statements and sessions taking turns:
/// a transaction (`withSession`) holds the connection from BEGIN to COMMIT, so no other task's
/// statement can land inside it. SQLite has a single writer anyway; one connection never meets
/// SQLITE_BUSY from itself.
struct SerializedDatabase: SQLDatabase {
    let connection: any SQLDatabase
    let turn: AsyncTurn

    var logger: Logger { connection.logger }
    var eventLoop: any EventLoop { connection.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { connection.version }
    var dialect: any SQLDialect { connection.dialect }
    var queryLogLevel: Logger.Level? { connection.queryLogLevel }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void)
        -> EventLoopFuture<Void>
    {
        eventLoop.makeFutureWithTask { try await execute(sql: query, onRow) }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        try await turn.run { try await connection.execute(sql: query, onRow) }
    }

    func withSession<R>(_ closure: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await turn.run { try await closure(connection) }
    }
}
