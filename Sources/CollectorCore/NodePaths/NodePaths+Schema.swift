import SQLKit

/// Node-path quotas of the built-in store and recording rules. Steps of the catalog's schema (`Migrations`).
enum NodePathsSchema {
    static let steps: [Migrations.Step] = [
        Migrations.Step(version: 6, name: "built-in store quota per node path") { _ in
            ["ALTER TABLE node_paths ADD COLUMN quota_mb BIGINT"]
        },
        // What this node path sets of the recording rules (RecordingRulesOverride as JSON; NULL: nothing).
        Migrations.Step(version: 12, name: "recording rules per node path") { _ in
            ["ALTER TABLE node_paths ADD COLUMN recording_rules TEXT"]
        },
    ]
}
