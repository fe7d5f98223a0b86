import SQLKit

/// Enrolment codes, agents, their key history and their own storage accounts. Steps of the catalog's schema (`Migrations`).
enum AgentsSchema {
    static let steps: [Migrations.Step] = [
        Migrations.Step(version: 3, name: "enrolment codes and agents") { _ in
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
        Migrations.Step(version: 7, name: "agent key history, re-enrolment by admin decision, evidence lookup") { _ in
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
        Migrations.Step(version: 8, name: "per-agent credentials for external storage") { _ in
            [
                """
                CREATE TABLE agent_storage_credentials (
                    agent_id TEXT NOT NULL,
                    storage_target TEXT NOT NULL REFERENCES storage_targets(name),
                    auth TEXT NOT NULL,
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
}
