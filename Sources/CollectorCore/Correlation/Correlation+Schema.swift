/// What correlation keeps: agents' clock offsets over time. Steps of the catalog's schema (`Migrations`).
enum CorrelationSchema {
    static let steps: [Migrations.Step] = [
        Migrations.Step(version: 15, name: "agents' clock offsets over time") { _ in
            [
                // Each heartbeat measures the workstation's clock against ours. A row is kept when the
                // offset moved or an hour passed, so a segment is corrected by the measurement made
                // around it, not by today's.
                """
                CREATE TABLE agent_clock_offsets (
                    agent_id TEXT NOT NULL,
                    measured_at TEXT NOT NULL,
                    offset_ms BIGINT NOT NULL,
                    uncertainty_ms BIGINT NOT NULL,
                    PRIMARY KEY (agent_id, measured_at)
                )
                """
            ]
        },
        Migrations.Step(version: 16, name: "the correlation job's queue and its results") { _ in
            [
                // Calls whose recordings must be matched again: one row per call, however often it is
                // touched before the job gets to it. A worker leases rows (claimed_until) and finishes only
                // the version it read, so a call touched while it worked is done again; a call whose
                // correlation fails waits longer each attempt (due_at) without holding up the others.
                """
                CREATE TABLE correlation_queue (
                    integration TEXT NOT NULL,
                    interaction_id TEXT NOT NULL,
                    due_at TEXT NOT NULL,
                    version BIGINT NOT NULL,
                    attempts BIGINT NOT NULL,
                    claimed_by TEXT,
                    claimed_until TEXT,
                    PRIMARY KEY (integration, interaction_id)
                )
                """,
                "CREATE INDEX correlation_queue_due ON correlation_queue (due_at)",
                // What the job found: each recording linked to a call, how, and where on its timeline.
                """
                CREATE TABLE call_links (
                    integration TEXT NOT NULL,
                    interaction_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    object_id TEXT NOT NULL,
                    method TEXT NOT NULL,
                    confidence_permille BIGINT NOT NULL,
                    offset_ms BIGINT NOT NULL,
                    uncertainty_ms BIGINT,
                    PRIMARY KEY (integration, interaction_id, kind, object_id)
                )
                """,
                "CREATE INDEX call_links_object ON call_links (kind, object_id)",
                """
                CREATE TABLE call_correlations (
                    integration TEXT NOT NULL,
                    interaction_id TEXT NOT NULL,
                    correlated_at TEXT NOT NULL,
                    voice BIGINT NOT NULL,
                    screen BIGINT NOT NULL,
                    max_uncertainty_ms BIGINT,
                    within_limit BIGINT NOT NULL,
                    runs BIGINT NOT NULL,
                    PRIMARY KEY (integration, interaction_id)
                )
                """,
            ]
        },
        Migrations.Step(version: 17, name: "calls by their end, for joining a softphone transfer's two calls") { _ in
            ["CREATE INDEX calls_ended ON calls (ended_at)"]
        },
    ]
}
