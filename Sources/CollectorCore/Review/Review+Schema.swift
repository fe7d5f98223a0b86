/// What QA adds to a call: timed notes, categories, evaluations against admin-defined forms, custom
/// field values, and each user's saved searches. Steps of the catalog's schema (`Migrations`).
///
/// Rows name their call by (integration, interaction id), as calls do; they are never removed with a
/// call's re-projection (which rewrites `calls` and `call_legs` only).
enum ReviewSchema {
    static let steps: [Migrations.Step] = [
        Migrations.Step(version: 21, name: "notes, categories, evaluations, custom fields, saved searches") { postgres in
            let id = postgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"
            return [
                "CREATE TABLE review_categories (name TEXT PRIMARY KEY, description TEXT NOT NULL, created_at TEXT NOT NULL)",
                // `definition`: the questions (JSON). A form changes only by a new name; a retired one
                // takes no new evaluations and keeps its old ones.
                """
                CREATE TABLE evaluation_forms (
                    name TEXT PRIMARY KEY, title TEXT NOT NULL, definition TEXT NOT NULL,
                    retired BIGINT NOT NULL DEFAULT 0, created_at TEXT NOT NULL)
                """,
                """
                CREATE TABLE custom_fields (
                    name TEXT PRIMARY KEY, label TEXT NOT NULL, kind TEXT NOT NULL, choices TEXT NOT NULL,
                    created_at TEXT NOT NULL)
                """,
                // A deleted note keeps its row (who deleted it, when): the audit trail names it.
                """
                CREATE TABLE call_notes (
                    id \(id), integration TEXT NOT NULL, interaction_id TEXT NOT NULL, at_ms BIGINT,
                    body TEXT NOT NULL, author TEXT NOT NULL, created_at TEXT NOT NULL,
                    deleted_at TEXT, deleted_by TEXT)
                """,
                "CREATE INDEX call_notes_call ON call_notes (integration, interaction_id)",
                """
                CREATE TABLE call_categories (
                    integration TEXT NOT NULL, interaction_id TEXT NOT NULL,
                    category TEXT NOT NULL REFERENCES review_categories(name),
                    added_by TEXT NOT NULL, added_at TEXT NOT NULL,
                    PRIMARY KEY (integration, interaction_id, category))
                """,
                "CREATE INDEX call_categories_category ON call_categories (category)",
                // Each submission is kept with the questions it answered (`definition`), so a score
                // never changes under it; the call's score is its latest (`calls.qa_score`).
                """
                CREATE TABLE call_evaluations (
                    id \(id), integration TEXT NOT NULL, interaction_id TEXT NOT NULL, form TEXT NOT NULL,
                    definition TEXT NOT NULL, answers TEXT NOT NULL, score BIGINT NOT NULL, comment TEXT NOT NULL,
                    evaluator TEXT NOT NULL, created_at TEXT NOT NULL)
                """,
                "CREATE INDEX call_evaluations_call ON call_evaluations (integration, interaction_id)",
                """
                CREATE TABLE call_field_values (
                    integration TEXT NOT NULL, interaction_id TEXT NOT NULL,
                    field TEXT NOT NULL REFERENCES custom_fields(name) ON DELETE CASCADE,
                    value TEXT NOT NULL, set_by TEXT NOT NULL, set_at TEXT NOT NULL,
                    PRIMARY KEY (integration, interaction_id, field))
                """,
                "ALTER TABLE calls ADD COLUMN qa_score BIGINT",
                "CREATE INDEX calls_qa_score ON calls (qa_score)",
                """
                CREATE TABLE saved_searches (
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, name TEXT NOT NULL,
                    query TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (user_id, name))
                """,
            ]
        },
        // One column to find a word in a call's own attributes: its id, numbers, queue, and each leg's
        // agent and workstation, lower-cased A–Z (`CallCatalog.searchText`). Scanning it is a LIKE per
        // call; before, a word's search ran translate() on six columns and scanned every leg, 1 s with
        // 100 000 calls on PostgreSQL.
        Migrations.Step(version: 22, name: "calls' searchable text") { postgres in
            let letters = "'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'"
            return [
                "ALTER TABLE calls ADD COLUMN search_text TEXT NOT NULL DEFAULT ''",
                postgres
                    ? """
                    UPDATE calls SET search_text = translate(concat_ws(E'\\n', interaction_id, ani, dnis, queue,
                        (SELECT string_agg(concat_ws(E'\\n', l.agent, l.workstation), E'\\n') FROM call_legs l
                         WHERE l.integration = calls.integration AND l.interaction_id = calls.interaction_id)), \(letters))
                    """
                    : """
                    UPDATE calls SET search_text = lower(interaction_id || char(10) || coalesce(ani, '') || char(10)
                        || coalesce(dnis, '') || char(10) || coalesce(queue, '') || char(10)
                        || coalesce((SELECT group_concat(coalesce(l.agent, '') || char(10) || coalesce(l.workstation, ''), char(10))
                            FROM call_legs l WHERE l.integration = calls.integration AND l.interaction_id = calls.interaction_id), ''))
                    """,
            ]
        },
    ]
}
