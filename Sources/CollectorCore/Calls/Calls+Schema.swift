import SQLKit

/// Integrations (who may post call events), the call event log, deliveries and the call catalog. Steps of the catalog's schema
/// (`Migrations`).
enum CallsSchema {
    static let steps: [Migrations.Step] = [
        Migrations.Step(version: 9, name: "CTI integrations and the call event log") { postgres in
            [
                """
                CREATE TABLE integrations (
                    name TEXT PRIMARY KEY,
                    kind TEXT NOT NULL,
                    token_hash TEXT NOT NULL UNIQUE,
                    created_at TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    revoked_at TEXT
                )
                """,
                // Each request's body exactly as it arrived: the audit's raw payload.
                """
                CREATE TABLE cti_requests (
                    id \(postgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"),
                    integration TEXT NOT NULL,
                    received_at TEXT NOT NULL,
                    source TEXT NOT NULL,
                    body TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE call_events (
                    integration TEXT NOT NULL,
                    event_id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    occurred_at TEXT NOT NULL,
                    received_at TEXT NOT NULL,
                    interaction_id TEXT,
                    leg_id TEXT,
                    agent_id TEXT,
                    event TEXT NOT NULL,
                    request_id BIGINT NOT NULL,
                    PRIMARY KEY (integration, event_id)
                )
                """,
                "CREATE INDEX call_events_interaction ON call_events (interaction_id, occurred_at)",
            ]
        },
        Migrations.Step(version: 10, name: "phone-system agent identities and deliveries to workstations") {
            postgres in
            [
                // Which workstation (enrolled agent) a phone system's agent identity sits at now.
                """
                CREATE TABLE agent_identities (
                    integration TEXT NOT NULL,
                    external_id TEXT NOT NULL,
                    agent_id TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    updated_by TEXT NOT NULL,
                    PRIMARY KEY (integration, external_id)
                )
                """,
                // Events routed to a workstation, in arrival order: what its agent reads after a cursor.
                """
                CREATE TABLE call_deliveries (
                    id \(postgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"),
                    agent_id TEXT NOT NULL,
                    integration TEXT NOT NULL,
                    event_id TEXT NOT NULL
                )
                """,
                "CREATE INDEX call_deliveries_agent ON call_deliveries (agent_id, id)",
            ]
        },
        Migrations.Step(version: 11, name: "the call catalog: interactions, legs, segments per leg") { _ in
            [
                // One row per interaction: the fold of its events (`CallProjection`), rebuilt whenever one
                // of them arrives; the columns are what searches filter on.
                """
                CREATE TABLE calls (
                    integration TEXT NOT NULL,
                    interaction_id TEXT NOT NULL,
                    state TEXT NOT NULL,
                    started_at TEXT,
                    ended_at TEXT,
                    direction TEXT,
                    ani TEXT,
                    dnis TEXT,
                    queue TEXT,
                    record TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    PRIMARY KEY (integration, interaction_id)
                )
                """,
                "CREATE INDEX calls_started ON calls (started_at)",
                "CREATE INDEX calls_interaction ON calls (interaction_id)",
                """
                CREATE TABLE call_legs (
                    integration TEXT NOT NULL,
                    interaction_id TEXT NOT NULL,
                    leg_id TEXT NOT NULL,
                    workstation TEXT,
                    agent TEXT,
                    state TEXT NOT NULL,
                    started_at TEXT,
                    ended_at TEXT,
                    PRIMARY KEY (integration, interaction_id, leg_id)
                )
                """,
                "CREATE INDEX call_legs_workstation ON call_legs (workstation, state)",
                "CREATE INDEX call_deliveries_event ON call_deliveries (integration, event_id)",
                // The legs a segment's manifest names (segment_calls keeps its interactions).
                """
                CREATE TABLE segment_legs (
                    interaction_id TEXT NOT NULL,
                    leg_id TEXT NOT NULL,
                    agent_id TEXT NOT NULL,
                    sequence BIGINT NOT NULL,
                    manifest_sha256 TEXT NOT NULL,
                    PRIMARY KEY (interaction_id, leg_id, agent_id, sequence, manifest_sha256)
                )
                """,
            ]
        },
        // Whether a workstation may say which of this integration's agents sits at it now (a softphone's
        // login, for hot-desking): off unless an admin allows it.
        Migrations.Step(version: 13, name: "workstation logins per integration") { _ in
            ["ALTER TABLE integrations ADD COLUMN workstation_logins BIGINT NOT NULL DEFAULT 0"]
        },
        Migrations.Step(version: 20, name: "calls searchable by number, queue and duration") { postgres in
            [
                "ALTER TABLE calls ADD COLUMN duration_ms BIGINT",
                // Calls catalogued before: their length from their own times.
                postgres
                    ? """
                    UPDATE calls SET duration_ms = CAST(EXTRACT(EPOCH FROM (CAST(ended_at AS TIMESTAMPTZ) - CAST(started_at AS TIMESTAMPTZ))) * 1000 AS BIGINT)
                    WHERE started_at IS NOT NULL AND ended_at IS NOT NULL
                    """
                    : """
                    UPDATE calls SET duration_ms = CAST(ROUND((julianday(ended_at) - julianday(started_at)) * 86400000) AS INTEGER)
                    WHERE started_at IS NOT NULL AND ended_at IS NOT NULL
                    """,
                "CREATE INDEX calls_ani ON calls (ani)",
                "CREATE INDEX calls_dnis ON calls (dnis)",
                "CREATE INDEX calls_queue ON calls (queue)",
                "CREATE INDEX calls_duration ON calls (duration_ms)",
            ]
        },
    ]
}
