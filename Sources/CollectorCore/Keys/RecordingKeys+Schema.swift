import SQLKit

/// Recording keys (the certificates segments are sealed for). Steps of the catalog's schema (`Migrations`).
enum RecordingKeysSchema {
    static let steps: [Migrations.Step] = [
        Migrations.Step(version: 2, name: "recording keys") { _ in
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
    ]
}
