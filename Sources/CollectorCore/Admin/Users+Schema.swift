/// Users beyond admins: roles scoped to node paths, an agent's link to their workstation, and
/// sessions that end when idle. Steps of the catalog's schema (`Migrations`).
enum UsersSchema {
    static let steps: [Migrations.Step] = [
        Migrations.Step(version: 19, name: "user roles, node-path scopes, idle sessions") { _ in
            [
                // An agent user sees the calls taken at this workstation, when an admin links one.
                "ALTER TABLE users ADD COLUMN workstation TEXT",
                """
                CREATE TABLE user_scopes (
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    node_path TEXT NOT NULL,
                    PRIMARY KEY (user_id, node_path)
                )
                """,
                // A session ends 12 h after login, or 30 min after its last use, whichever comes first.
                "ALTER TABLE sessions ADD COLUMN last_seen_at TEXT",
                // `bearer` (API clients, which send it themselves) or `cookie` (the web app: CSRF-checked).
                "ALTER TABLE sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'bearer'",
            ]
        }
    ]
}
