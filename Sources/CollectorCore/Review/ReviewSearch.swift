import RecorderCore
import SQLKit

/// The search terms on what reviewers added (`CallCatalog.Query`): notes, categories, score, and free
/// text. Bound values only, as every other term (`SearchTerm`).
extension CallCatalog {
    static func reviewConditions(_ query: Query, postgres: Bool) throws -> [SQLQueryString] {
        var conditions: [SQLQueryString] = []
        let sameCall = "x.integration = c.integration AND x.interaction_id = c.interaction_id"
        if let hasNotes = query.hasNotes {
            let exists: SQLQueryString =
                "EXISTS (SELECT 1 FROM call_notes x WHERE \(unsafeRaw: sameCall) AND x.deleted_at IS NULL)"
            conditions.append(hasNotes ? exists : "NOT " + exists)
        }
        if let category = query.category {
            let (negated, any) = try SearchTerm.textParts(category, column: "x.category", field: "category")
            let exists = "EXISTS (SELECT 1 FROM call_categories x WHERE \(unsafeRaw: sameCall) AND " + any + ")"
            conditions.append(negated ? "NOT " + exists : exists)
        }
        if let score = query.score {
            let term = try SearchTerm.number(score, column: "c.qa_score", field: "score", scale: 1, unit: "a score from 0 to 100 (80)", largest: 100)
            conditions.append("(c.qa_score IS NOT NULL AND " + term + ")")
        }
        if let text = query.text {
            let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard (1...8).contains(words.count), words.allSatisfy({ $0.utf8.count <= 100 }) else {
                throw CollectorError(.invalid, "text: give 1 to 8 words of at most 100 bytes each")
            }
            for word in words { conditions.append(Self.textCondition(word, postgres: postgres)) }
        }
        return conditions
    }

    /// One word anywhere a person would look for it. LIKE with its wildcards escaped, both sides
    /// lower-cased the same way on both databases (ASCII only: SQLite's `lower` knows no more).
    static func textCondition(_ word: String, postgres: Bool) -> SQLQueryString {
        let lowered = Self.asciiLowered(word)
        var escaped = ""
        for character in lowered {
            if character == "%" || character == "_" || character == "!" { escaped.append("!") }
            escaped.append(character)
        }
        let pattern = "%" + escaped + "%"
        func like(_ column: String) -> SQLQueryString {
            // `!` escapes: a backslash would depend on PostgreSQL's standard_conforming_strings.
            "\(unsafeRaw: postgres ? Self.asciiLower(column) : column) LIKE \(bind: pattern) ESCAPE '!'"
        }
        // The call's own attributes in one lower-cased column; what reviewers wrote (other tables) as
        // one set of calls each, hashed or indexed once by the database, not a subquery per call.
        let own: SQLQueryString = "c.search_text LIKE \(bind: pattern) ESCAPE '!'"
        let elsewhere: [SQLQueryString] = [
            "SELECT x.integration, x.interaction_id FROM call_notes x WHERE x.deleted_at IS NULL AND " + like("x.body"),
            "SELECT x.integration, x.interaction_id FROM call_evaluations x WHERE " + like("x.comment"),
            "SELECT x.integration, x.interaction_id FROM call_field_values x WHERE " + like("x.value"),
        ]
        return "(" + own + " OR (c.integration, c.interaction_id) IN (" + elsewhere.joined(separator: " UNION ") + "))"
    }

    /// A–Z lower-cased, every other letter as it is: what SQLite's `lower` does, on both databases.
    static func asciiLowered(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { scalar in
            (0x41...0x5A).contains(scalar.value) ? Unicode.Scalar(scalar.value + 0x20)! : scalar
        }))
    }

    /// The call's own words for free-text search: id, numbers, queue, and each leg's agent and
    /// workstation, one a line (a word never spans two), A–Z lower-cased.
    static func searchText(_ record: CallRecord) -> String {
        let words = [record.interactionId, record.ani, record.dnis, record.queue]
            + record.legs.flatMap { [$0.agent, $0.workstation] }
        return asciiLowered(words.compactMap { $0?.replacingOccurrences(of: "\n", with: " ") }.joined(separator: "\n"))
    }

    /// SQLite's LIKE is blind to the case of A–Z and no other letter; PostgreSQL's sees case, and its
    /// `lower` folds every letter. `translate` folds A–Z only, so a search finds the same calls on either.
    static func asciiLower(_ column: String) -> String {
        "translate(\(column), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
    }
}
