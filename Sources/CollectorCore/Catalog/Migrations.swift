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

    static let steps: [Step] = [
        Step(version: 1, name: "users, sessions, storage targets, node paths, audit log") { postgres in
            [
                """
                CREATE TABLE users (
                    id TEXT PRIMARY KEY,
                    username TEXT NOT NULL UNIQUE,
                    password_hash TEXT NOT NULL,
                    role TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    disabled BIGINT NOT NULL DEFAULT 0
                )
                """,
                """
                CREATE TABLE sessions (
                    token_hash TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    created_at TEXT NOT NULL,
                    expires_at TEXT NOT NULL,
                    source TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE storage_targets (
                    name TEXT PRIMARY KEY,
                    kind TEXT NOT NULL,
                    url TEXT,
                    auth TEXT NOT NULL,
                    username TEXT,
                    sealed_secret TEXT,
                    ca_pem TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE node_paths (
                    path TEXT PRIMARY KEY,
                    storage TEXT NOT NULL REFERENCES storage_targets(name),
                    description TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE audit_log (
                    id \(postgres ? "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"),
                    at TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    target TEXT NOT NULL,
                    detail TEXT NOT NULL,
                    source TEXT NOT NULL
                )
                """,
                "CREATE INDEX audit_log_at ON audit_log (at)",
            ]
        },
        Step(version: 2, name: "recording keys") { _ in
            [
                """
                CREATE TABLE recording_keys (
                    id TEXT PRIMARY KEY,
                    certificate_pem TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    retired_at TEXT
                )
                """
            ]
        },
        Step(version: 3, name: "enrolment codes and agents") { _ in
            [
                """
                CREATE TABLE enrolment_codes (
                    code_hash TEXT PRIMARY KEY,
                    node_path TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    expires_at TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    used_at TEXT,
                    used_by TEXT
                )
                """,
                """
                CREATE TABLE agents (
                    id TEXT PRIMARY KEY,
                    node_path TEXT NOT NULL,
                    token_hash TEXT NOT NULL UNIQUE,
                    signing_key TEXT NOT NULL,
                    hostname TEXT NOT NULL,
                    enrolled_at TEXT NOT NULL,
                    revoked_at TEXT,
                    last_seen_at TEXT
                )
                """,
            ]
        },
        Step(version: 4, name: "segments, their calls, agent health") { _ in
            [
                """
                CREATE TABLE segments (
                    agent_id TEXT NOT NULL,
                    sequence BIGINT NOT NULL,
                    manifest_sha256 TEXT NOT NULL,
                    node_path TEXT NOT NULL,
                    storage_target TEXT NOT NULL,
                    object_path TEXT NOT NULL,
                    segment_file TEXT NOT NULL,
                    call_ids TEXT NOT NULL,
                    first_frame_time TEXT NOT NULL,
                    last_frame_time TEXT NOT NULL,
                    duration_ms BIGINT NOT NULL,
                    frame_count BIGINT NOT NULL,
                    width BIGINT NOT NULL,
                    height BIGINT NOT NULL,
                    end_reason TEXT NOT NULL,
                    pause_gaps TEXT NOT NULL,
                    sealed_size BIGINT NOT NULL,
                    sealed_sha256 TEXT NOT NULL,
                    previous_manifest_sha256 TEXT,
                    chain TEXT NOT NULL,
                    chain_detail TEXT,
                    manifest TEXT NOT NULL,
                    indexed_at TEXT NOT NULL,
                    PRIMARY KEY (agent_id, sequence, manifest_sha256)
                )
                """,
                "CREATE INDEX segments_first_frame ON segments (first_frame_time)",
                "CREATE INDEX segments_chain ON segments (chain)",
                """
                CREATE TABLE segment_calls (
                    call_id TEXT NOT NULL,
                    agent_id TEXT NOT NULL,
                    sequence BIGINT NOT NULL,
                    manifest_sha256 TEXT NOT NULL,
                    PRIMARY KEY (call_id, agent_id, sequence, manifest_sha256)
                )
                """,
                """
                CREATE TABLE agent_health (
                    agent_id TEXT PRIMARY KEY,
                    reported_at TEXT NOT NULL,
                    agent_version TEXT NOT NULL,
                    state TEXT NOT NULL,
                    spool_segments BIGINT NOT NULL,
                    spool_bytes BIGINT NOT NULL,
                    last_error TEXT,
                    last_error_at TEXT,
                    clock_offset_ms BIGINT NOT NULL,
                    round_trip_ms BIGINT
                )
                """,
            ]
        },
        Step(version: 5, name: "WebDAV dead properties of the built-in store") { _ in
            [
                """
                CREATE TABLE dav_properties (
                    path TEXT NOT NULL,
                    namespace TEXT NOT NULL,
                    name TEXT NOT NULL,
                    value TEXT NOT NULL,
                    PRIMARY KEY (path, namespace, name)
                )
                """
            ]
        },
        Step(version: 6, name: "built-in store quota per node path") { _ in
            ["ALTER TABLE node_paths ADD COLUMN quota_mb BIGINT"]
        },
        Step(version: 7, name: "agent key history, re-enrolment by admin decision, evidence lookup") { _ in
            [
                """
                CREATE TABLE agent_keys (
                    agent_id TEXT NOT NULL,
                    signing_key TEXT NOT NULL,
                    enrolled_at TEXT NOT NULL,
                    retired_at TEXT,
                    PRIMARY KEY (agent_id, signing_key)
                )
                """,
                "INSERT INTO agent_keys (agent_id, signing_key, enrolled_at, retired_at) SELECT id, signing_key, enrolled_at, revoked_at FROM agents",
                "ALTER TABLE agents ADD COLUMN reenrolment_allowed_at TEXT",
                // The store asks, before changing a file, whether the catalog holds it (EvidenceLock).
                "CREATE INDEX segments_object ON segments (storage_target, object_path)",
            ]
        },
        Step(version: 8, name: "per-agent credentials for external storage") { _ in
            [
                """
                CREATE TABLE agent_storage_credentials (
                    agent_id TEXT NOT NULL REFERENCES agents(id),
                    storage_target TEXT NOT NULL REFERENCES storage_targets(name),
                    username TEXT,
                    sealed_secret TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    PRIMARY KEY (agent_id, storage_target)
                )
                """,
                "ALTER TABLE storage_targets ADD COLUMN agent_credentials TEXT NOT NULL DEFAULT 'shared'",
            ]
        },
    ]

    /// Applies the missing steps in one transaction. On PostgreSQL an advisory lock makes collectors
    /// that start together take turns, so each step runs exactly once.
    static func apply(to catalog: Catalog, logger: Logger) async throws {
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
