import SQLKit

/// Catalogued segments, their calls, and agent health. Steps of the catalog's schema (`Migrations`).
enum SegmentsSchema {
    static let steps: [Migrations.Step] = [
        Migrations.Step(version: 4, name: "segments, their calls, agent health") { _ in
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
    ]
}
