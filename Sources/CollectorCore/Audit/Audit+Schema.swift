/// What the audit trail keeps beyond its entries: their places in the hash chain and the signed
/// checkpoints (`AuditChain`). Steps of the catalog's schema (`Migrations`).
enum AuditSchema {
    static let steps: [Migrations.Step] = [
        Migrations.Step(version: 18, name: "the audit log as a hash chain, with signed checkpoints") { _ in
            [
                // Entries written before this step have no place yet: the collector gives them theirs,
                // oldest first, when it opens the catalog (`AuditChain.chainUnplaced`).
                "ALTER TABLE audit_log ADD COLUMN seq BIGINT",
                "ALTER TABLE audit_log ADD COLUMN prev_hash TEXT",
                "ALTER TABLE audit_log ADD COLUMN hash TEXT",
                "CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq)",
                """
                CREATE TABLE audit_checkpoints (
                    seq BIGINT PRIMARY KEY,
                    hash TEXT NOT NULL,
                    at TEXT NOT NULL,
                    mac TEXT NOT NULL
                )
                """,
            ]
        }
    ]
}
