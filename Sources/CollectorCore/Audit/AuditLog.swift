import RecorderCore
import SQLKit

/// Who changed what, when and from where. Every admin change writes one entry in the same transaction
/// as the change itself, so there is never a change without its entry (or an entry without its change).
public struct AuditEntry: Codable, Sendable, Equatable {
    public var id: Int
    /// Its place in the chain (`AuditChain`), from 1 without gaps.
    public var seq: Int64?
    public var at: String
    /// `user:alice`, `cli:root`, `agent:ws-0042`, `system`.
    public var actor: String
    /// e.g. `node_path.create`, `storage.update`, `user.login_failed`.
    public var action: String
    public var target: String
    public var detail: String
    /// Client address for API calls, `cli` or `local` otherwise.
    public var source: String
}

/// The actor and origin of a change, passed down from the API or the CLI.
public struct Actor: Sendable, Equatable {
    public var name: String
    public var source: String

    public init(name: String, source: String) {
        self.name = name
        self.source = source
    }

    public static let system = Actor(name: "system", source: "local")
}

public enum AuditLog {
    /// Every field is outside data somewhere (a failed login's user name, a call id, a host name):
    /// stored with control characters escaped and cut to a bound, so the log can be neither flooded
    /// (megabyte user names, before) nor used to drive the terminal of the admin who reads it.
    ///
    /// Call it inside the transaction of the change it records: the entry takes the next place in the
    /// chain (`AuditChain`) under the chain's lock, which the transaction holds until it commits.
    public static func record(
        _ action: String, target: String, detail: String = "", by actor: Actor, in database: any SQLDatabase
    ) async throws {
        let fields = AuditChain.Fields(
            at: Timestamp.now(), actor: OutsideText.bounded(actor.name, limit: 160),
            action: OutsideText.bounded(action, limit: 64), target: OutsideText.bounded(target, limit: 600),
            detail: OutsideText.bounded(detail, limit: 2000), source: OutsideText.bounded(actor.source, limit: 64))
        try await AuditChain.append(fields, in: database)
    }

    /// An entry with no change of its own to share a transaction with (a failed login, a verification).
    public static func record(
        _ action: String, target: String, detail: String = "", by actor: Actor, in catalog: Catalog
    ) async throws {
        try await catalog.transaction { database in
            try await record(action, target: target, detail: detail, by: actor, in: database)
        }
    }

    /// Newest first.
    public static func entries(limit: Int = 100, before id: Int? = nil, in database: any SQLDatabase) async throws
        -> [AuditEntry]
    {
        let rows = try await database.raw(
            """
            SELECT id, seq, at, actor, action, target, detail, source FROM audit_log
            WHERE id < \(bind: id ?? Int.max) ORDER BY id DESC LIMIT \(bind: limit)
            """
        ).all()
        return try rows.map { row in
            AuditEntry(
                id: try row.decode(column: "id", as: Int.self), seq: try row.decode(column: "seq", as: Int64?.self),
                at: try row.decode(column: "at", as: String.self),
                actor: try row.decode(column: "actor", as: String.self),
                action: try row.decode(column: "action", as: String.self),
                target: try row.decode(column: "target", as: String.self),
                detail: try row.decode(column: "detail", as: String.self),
                source: try row.decode(column: "source", as: String.self))
        }
    }
}
