import Logging
import SQLKit

/// The catalog's schema, as numbered steps applied once each and recorded in `schema_migrations`.
/// A step never changes once released; changes come as new steps. Types are the portable subset
/// (TEXT, BIGINT); where the two databases differ (identity columns) a step spells out both.
/// Timestamps are UTC ISO 8601 text with milliseconds (`Timestamp`), which sorts correctly in both.
enum Migrations {
    struct Step: Sendable {
        let version: Int
        let name: String
        let statements: @Sendable (_ postgres: Bool) -> [String]
    }

    /// Every concern declares its steps next to its code; the catalog applies them in version order.
    /// A new concern (calls, voice, correlation) adds its enum here.
    static let steps: [Step] = (FoundationSchema.steps + RecordingKeysSchema.steps + AgentsSchema.steps
        + SegmentsSchema.steps + DeadPropertiesSchema.steps + NodePathsSchema.steps + CallsSchema.steps + VoiceSchema.steps
        + CorrelationSchema.steps + AuditSchema.steps + UsersSchema.steps + ReviewSchema.steps).sorted { $0.version < $1.version }

    /// Applies the missing steps in one transaction. On PostgreSQL an advisory lock makes collectors
    /// that start together take turns, so each step runs exactly once.
    static func apply(to catalog: Catalog, logger: Logger) async throws {
        let versions = steps.map(\.version)
        precondition(versions == Array(1...versions.count), "catalog schema steps must be numbered 1...n once each")
        let postgres = catalog.isPostgres
        let applied = try await catalog.transaction { database in
            if postgres {
                try await database.raw("SELECT pg_advisory_xact_lock(7274171)").run()
            }
            try await database.raw(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)
                """
            ).run()
            let done = Set(
                try await database.raw("SELECT version FROM schema_migrations").all().map {
                    try $0.decode(column: "version", as: Int.self)
                })
            var applied: [Int] = []
            for step in steps where !done.contains(step.version) {
                for statement in step.statements(postgres) {
                    try await database.raw(SQLQueryString(statement)).run()
                }
                try await database.raw(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(bind: step.version), \(bind: step.name), \(bind: Timestamp.now()))"
                ).run()
                applied.append(step.version)
            }
            return applied
        }
        for version in applied {
            logger.notice("catalog schema migrated", metadata: ["version": "\(version)"])
        }
    }

    static var latestVersion: Int { steps.map(\.version).max() ?? 0 }
}
