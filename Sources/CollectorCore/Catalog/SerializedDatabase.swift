import Logging
import NIOCore
import SQLKit
import Synchronization

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

/// A first-come, first-served async mutex: `run` waits for its turn without blocking a thread.
final class AsyncTurn: Sendable {
    private struct State {
        var busy = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    func run<R>(_ body: () async throws -> R) async throws -> R {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state in
                if state.busy {
                    state.waiting.append(continuation)
                    return false
                }
                state.busy = true
                return true
            }
            if granted { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiting.isEmpty {
                state.busy = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
