import SQLKit

/// Node-path quotas of the built-in store. Steps of the catalog's schema (`Migrations`).
enum NodePathsSchema {
    static let steps: [Migrations.Step] = [
        Migrations.Step(version: 6, name: "built-in store quota per node path") { _ in
            ["ALTER TABLE node_paths ADD COLUMN quota_mb BIGINT"]
        },
    ]
}
