/// Voice recordings: one row per file the phone system delivered, sealed in storage. Steps of the
/// catalog's schema (`Migrations`).
enum VoiceSchema {
    static let steps: [Migrations.Step] = [
        Migrations.Step(version: 14, name: "voice recordings") { _ in
            [
                // (integration, interaction, leg, sha256) is the delivery: a retry of the same bytes for the
                // same leg is recognised; a second, different file for one leg is a second recording.
                """
                CREATE TABLE voice_recordings (
                    id TEXT PRIMARY KEY,
                    integration TEXT NOT NULL,
                    interaction_id TEXT NOT NULL,
                    leg_id TEXT NOT NULL,
                    sha256 TEXT NOT NULL,
                    started_at TEXT NOT NULL,
                    start_uncertainty_ms BIGINT NOT NULL,
                    clock_of TEXT,
                    duration_ms BIGINT NOT NULL,
                    container TEXT NOT NULL,
                    codec TEXT NOT NULL,
                    channels BIGINT NOT NULL,
                    sample_rate BIGINT NOT NULL,
                    channel_layout TEXT NOT NULL,
                    agent_id TEXT,
                    direction TEXT,
                    ani TEXT,
                    dnis TEXT,
                    sip_call_id TEXT,
                    node_path TEXT NOT NULL,
                    storage_target TEXT NOT NULL,
                    object_path TEXT NOT NULL,
                    size BIGINT NOT NULL,
                    sealed_size BIGINT NOT NULL,
                    sealed_sha256 TEXT NOT NULL,
                    delivered_by TEXT NOT NULL,
                    received_at TEXT NOT NULL,
                    UNIQUE (integration, interaction_id, leg_id, sha256)
                )
                """,
                "CREATE INDEX voice_recordings_interaction ON voice_recordings (interaction_id)",
                "CREATE INDEX voice_recordings_sip_call ON voice_recordings (sip_call_id)",
                "CREATE INDEX voice_recordings_agent ON voice_recordings (agent_id, started_at)",
            ]
        }
    ]
}
