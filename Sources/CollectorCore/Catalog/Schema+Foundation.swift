import SQLKit

/// The first tables: admin users and their sessions, storage targets, node paths and the audit log. Steps of the catalog's schema (`Migrations`).
enum FoundationSchema {
    static let steps: [Migrations.Step] = [
        Migrations.Step(version: 1, name: "users, sessions, storage targets, node paths, audit log") { postgres in
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
    ]
}
