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
        }
    ]
}
