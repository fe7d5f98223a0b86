import Crypto
import Foundation
import RecorderCore
import SQLKit

/// What reviewers add to one call: notes at moments of it, categories, custom field values and
/// evaluations. Each change is audited in its own transaction; a note's audit entry holds its SHA-256,
/// not its words (notes may quote what a caller said).
public struct CallReviews: Sendable {
    let catalog: Catalog
    let definitions: ReviewDefinitions

    /// A call, as the catalog keys it.
    public struct CallKey: Sendable, Equatable {
        public var integration: String
        public var interactionId: String

        public init(integration: String, interactionId: String) {
            self.integration = integration
            self.interactionId = interactionId
        }

        var target: String { "call:\(integration)/\(interactionId)" }
    }

    public struct Review: Codable, Sendable {
        public var notes: [Note]
        public var categories: [String]
        public var fields: [String: String]
        public var evaluations: [Evaluation]
        /// Whether this user may add to it (admins, supervisors and QA in reach; agents read only).
        public var canEdit: Bool

        enum CodingKeys: String, CodingKey {
            case notes, categories, fields, evaluations
            case canEdit = "can_edit"
        }
    }

    public struct Note: Codable, Sendable, Equatable {
        public var id: Int
        /// Where in the call it points, in ms on the call's timeline (nil: about the whole call).
        public var atMs: Int64?
        public var text: String
        public var author: String
        public var createdAt: String

        enum CodingKeys: String, CodingKey {
            case id, text, author
            case atMs = "at_ms"
            case createdAt = "created_at"
        }
    }

    public struct Evaluation: Codable, Sendable, Equatable {
        public var id: Int
        public var form: EvaluationForm
        public var answers: [String: EvaluationForm.Answer]
        public var score: Int
        public var comment: String
        public var evaluator: String
        public var createdAt: String

        enum CodingKeys: String, CodingKey {
            case id, form, answers, score, comment, evaluator
            case createdAt = "created_at"
        }
    }

    /// The longest note, in characters, and the furthest moment a note may point at (two days).
    static let noteLimit = 4000
    static let latestMoment: Int64 = 48 * 3600 * 1000

    public func review(of call: CallKey, canEdit: Bool) async throws -> Review {
        let notes = try await catalog.sql.raw(
            """
            SELECT id, at_ms, body, author, created_at FROM call_notes
            WHERE integration = \(bind: call.integration) AND interaction_id = \(bind: call.interactionId) AND deleted_at IS NULL
            ORDER BY (at_ms IS NULL), at_ms, id
            """
        ).all().map { row in
            Note(
                id: try row.decode(column: "id", as: Int.self), atMs: try row.decode(column: "at_ms", as: Int64?.self),
                text: try row.decode(column: "body", as: String.self), author: try row.decode(column: "author", as: String.self),
                createdAt: try row.decode(column: "created_at", as: String.self))
        }
        let categories = try await catalog.sql.raw(
            """
            SELECT category FROM call_categories
            WHERE integration = \(bind: call.integration) AND interaction_id = \(bind: call.interactionId) ORDER BY category
            """
        ).all().map { try $0.decode(column: "category", as: String.self) }
        var fields: [String: String] = [:]
        for row in try await catalog.sql.raw(
            "SELECT field, value FROM call_field_values WHERE integration = \(bind: call.integration) AND interaction_id = \(bind: call.interactionId)"
        ).all() {
            fields[try row.decode(column: "field", as: String.self)] = try row.decode(column: "value", as: String.self)
        }
        let evaluations = try await catalog.sql.raw(
            """
            SELECT id, definition, answers, score, comment, evaluator, created_at FROM call_evaluations
            WHERE integration = \(bind: call.integration) AND interaction_id = \(bind: call.interactionId) ORDER BY id DESC
            """
        ).all().map { row in
            Evaluation(
                id: try row.decode(column: "id", as: Int.self),
                form: try StrictJSON.decode(EvaluationForm.self, from: Data(try row.decode(column: "definition", as: String.self).utf8)),
                answers: try StrictJSON.decode(
                    [String: EvaluationForm.Answer].self, from: Data(try row.decode(column: "answers", as: String.self).utf8)),
                score: try row.decode(column: "score", as: Int.self), comment: try row.decode(column: "comment", as: String.self),
                evaluator: try row.decode(column: "evaluator", as: String.self),
                createdAt: try row.decode(column: "created_at", as: String.self))
        }
        return Review(notes: notes, categories: categories, fields: fields, evaluations: evaluations, canEdit: canEdit)
    }

    // MARK: - Notes

    public func addNote(to call: CallKey, atMs: Int64?, text: String, author: String, by actor: Actor) async throws -> Note {
        let body = try Self.noteText(text)
        if let atMs, !(0...Self.latestMoment).contains(atMs) {
            throw CollectorError(.invalid, "at_ms is a moment of the call in ms, from 0 to \(Self.latestMoment), found \(atMs)")
        }
        let createdAt = Timestamp.now()
        let digest = SHA256.hash(data: Data(body.utf8)).hexString
        return try await catalog.transaction { database in
            try await ReviewLimits.ensureRoom(
                database,
                counting: """
                    SELECT COUNT(*) AS n FROM call_notes WHERE integration = \(bind: call.integration)
                    AND interaction_id = \(bind: call.interactionId) AND deleted_at IS NULL
                    """,
                limit: ReviewLimits.notesPerCall,
                "this call has \(ReviewLimits.notesPerCall) notes, the most a call takes; take back ones no longer needed")
            let row = try await database.raw(
                """
                INSERT INTO call_notes (integration, interaction_id, at_ms, body, author, created_at)
                VALUES (\(bind: call.integration), \(bind: call.interactionId), \(bind: atMs), \(bind: body), \(bind: author), \(bind: createdAt))
                RETURNING id
                """
            ).first()
            let id = try row?.decode(column: "id", as: Int.self) ?? 0
            try await AuditLog.record(
                "note.add", target: call.target,
                detail: "note \(id)\(atMs.map { " at \(Double($0) / 1000) s" } ?? ""), \(body.count) characters, sha256 \(digest)",
                by: actor, in: database)
            return Note(id: id, atMs: atMs, text: body, author: author, createdAt: createdAt)
        }
    }

    /// A note is taken back by its author or an admin; its row stays, marked deleted.
    public func deleteNote(_ id: Int, of call: CallKey, user: String, isAdmin: Bool, by actor: Actor) async throws {
        try await catalog.transaction { database in
            guard
                let row = try await database.raw(
                    """
                    SELECT author FROM call_notes WHERE id = \(bind: id) AND integration = \(bind: call.integration)
                        AND interaction_id = \(bind: call.interactionId) AND deleted_at IS NULL
                    """
                ).first()
            else {
                throw CollectorError(.notFound, "no note \(id) on this call")
            }
            let author = try row.decode(column: "author", as: String.self)
            guard author == user || isAdmin else {
                throw CollectorError(.forbidden, "note \(id) is \(author)'s: only its author or an admin takes it back")
            }
            try await database.raw(
                "UPDATE call_notes SET deleted_at = \(bind: Timestamp.now()), deleted_by = \(bind: user) WHERE id = \(bind: id)"
            ).run()
            try await AuditLog.record("note.delete", target: call.target, detail: "note \(id) by \(author)", by: actor, in: database)
        }
    }

    /// Line breaks and tabs kept, anything else that could hide or forge text escaped; 1–4000 characters.
    static func noteText(_ text: String) throws -> String {
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        let body = lines.map { line in
            line.split(separator: "\t", omittingEmptySubsequences: false).map { OutsideText.printable(String($0)) }
                .joined(separator: "\t")
        }.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !body.isEmpty else { throw CollectorError(.invalid, "a note needs some text") }
        // Scalars, not Characters: a letter with a thousand combining marks is one Character.
        guard body.unicodeScalars.count <= noteLimit else {
            throw CollectorError(.invalid, "a note is at most \(noteLimit) characters, this one has \(body.unicodeScalars.count)")
        }
        return body
    }

    // MARK: - Categories and fields

    /// The call's categories become exactly these (each defined by an admin).
    public func setCategories(_ names: [String], of call: CallKey, by actor: Actor) async throws -> [String] {
        let wanted = Set(names)
        guard wanted.count <= 20 else { throw CollectorError(.invalid, "a call takes at most 20 categories") }
        return try await catalog.transaction { database in
            let defined = Set(try await database.raw("SELECT name FROM review_categories").all().map {
                try $0.decode(column: "name", as: String.self)
            })
            if let unknown = wanted.sorted().first(where: { !defined.contains($0) }) {
                throw CollectorError(.invalid, "no category \(OutsideText.bounded(unknown, limit: 60)); an admin defines categories")
            }
            let current = Set(try await database.raw(
                "SELECT category FROM call_categories WHERE integration = \(bind: call.integration) AND interaction_id = \(bind: call.interactionId)"
            ).all().map { try $0.decode(column: "category", as: String.self) })
            let added = wanted.subtracting(current).sorted()
            let removed = current.subtracting(wanted).sorted()
            guard !added.isEmpty || !removed.isEmpty else { return wanted.sorted() }
            for name in removed {
                try await database.raw(
                    """
                    DELETE FROM call_categories WHERE integration = \(bind: call.integration)
                        AND interaction_id = \(bind: call.interactionId) AND category = \(bind: name)
                    """
                ).run()
            }
            let now = Timestamp.now()
            for name in added {
                try await database.raw(
                    """
                    INSERT INTO call_categories (integration, interaction_id, category, added_by, added_at)
                    VALUES (\(bind: call.integration), \(bind: call.interactionId), \(bind: name), \(bind: actor.name), \(bind: now))
                    """
                ).run()
            }
            let change = (added.map { "+\($0)" } + removed.map { "-\($0)" }).joined(separator: " ")
            try await AuditLog.record("call.categorize", target: call.target, detail: change, by: actor, in: database)
            return wanted.sorted()
        }
    }

    /// Sets (a value) or clears (nil) custom fields of the call.
    public func setFields(_ values: [String: String?], of call: CallKey, by actor: Actor) async throws -> [String: String] {
        guard (1...50).contains(values.count) else { throw CollectorError(.invalid, "give 1 to 50 fields to set or clear") }
        return try await catalog.transaction { database in
            var changes: [String] = []
            for (name, given) in values.sorted(by: { $0.key < $1.key }) {
                guard let field = try await definitions.field(name, in: database) else {
                    throw CollectorError(.invalid, "no custom field \(OutsideText.bounded(name, limit: 60)); an admin defines fields")
                }
                try await database.raw(
                    """
                    DELETE FROM call_field_values WHERE integration = \(bind: call.integration)
                        AND interaction_id = \(bind: call.interactionId) AND field = \(bind: name)
                    """
                ).run()
                guard let given else {
                    changes.append("\(name) cleared")
                    continue
                }
                let value = try field.check(given)
                try await database.raw(
                    """
                    INSERT INTO call_field_values (integration, interaction_id, field, value, set_by, set_at)
                    VALUES (\(bind: call.integration), \(bind: call.interactionId), \(bind: name), \(bind: value),
                        \(bind: actor.name), \(bind: Timestamp.now()))
                    """
                ).run()
                // Free text may quote a caller, and the audit trail is never erased: its SHA-256 only.
                changes.append(
                    field.kind == .text
                        ? "\(name) set, sha256 \(SHA256.hash(data: Data(value.utf8)).hexString)"
                        : "\(name) = \(value)")
            }
            try await AuditLog.record("call.fields", target: call.target, detail: changes.joined(separator: "; "), by: actor, in: database)
            var fields: [String: String] = [:]
            for row in try await database.raw(
                "SELECT field, value FROM call_field_values WHERE integration = \(bind: call.integration) AND interaction_id = \(bind: call.interactionId)"
            ).all() {
                fields[try row.decode(column: "field", as: String.self)] = try row.decode(column: "value", as: String.self)
            }
            return fields
        }
    }

    // MARK: - Evaluations

    /// Scores the call against an active form. Kept as given, with the form's questions; the call's
    /// score (what search filters on) becomes this one, the latest.
    public func evaluate(
        _ call: CallKey, form name: String, answers: [String: EvaluationForm.Answer], comment: String, evaluator: String,
        by actor: Actor
    ) async throws -> Evaluation {
        let comment = try comment.isEmpty ? "" : Self.noteText(comment)
        let createdAt = Timestamp.now()
        return try await catalog.transaction { database in
            let (form, definition) = try await definitions.activeForm(name, in: database)
            let score = try form.score(answers)
            try await ReviewLimits.ensureRoom(
                database,
                counting: """
                    SELECT COUNT(*) AS n FROM call_evaluations WHERE integration = \(bind: call.integration)
                    AND interaction_id = \(bind: call.interactionId)
                    """,
                limit: ReviewLimits.evaluationsPerCall,
                "this call has \(ReviewLimits.evaluationsPerCall) evaluations, the most a call takes")
            let row = try await database.raw(
                """
                INSERT INTO call_evaluations (integration, interaction_id, form, definition, answers, score, comment, evaluator, created_at)
                VALUES (\(bind: call.integration), \(bind: call.interactionId), \(bind: form.name), \(bind: definition),
                    \(bind: String(decoding: try StrictJSON.encode(answers), as: UTF8.self)), \(bind: score), \(bind: comment),
                    \(bind: evaluator), \(bind: createdAt))
                RETURNING id
                """
            ).first()
            let id = try row?.decode(column: "id", as: Int.self) ?? 0
            // The latest by id, whichever of two concurrent evaluations commits last.
            try await database.raw(
                """
                UPDATE calls SET qa_score = (
                    SELECT e.score FROM call_evaluations e WHERE e.integration = calls.integration
                        AND e.interaction_id = calls.interaction_id ORDER BY e.id DESC LIMIT 1)
                WHERE integration = \(bind: call.integration) AND interaction_id = \(bind: call.interactionId)
                """
            ).run()
            try await AuditLog.record(
                "call.evaluate", target: call.target, detail: "evaluation \(id), form \(form.name), score \(score)", by: actor, in: database)
            return Evaluation(
                id: id, form: form, answers: answers, score: score, comment: comment, evaluator: evaluator, createdAt: createdAt)
        }
    }
}

extension Collector {
    /// The call as reviews key it, when `access` reaches it; 404 otherwise (as for the call itself).
    public func reviewedCall(_ interactionId: String, integration: String?, for access: Access) async throws
        -> CallReviews.CallKey
    {
        let missing = CollectorError(.notFound, "no call \(OutsideText.bounded(interactionId, limit: 80)) in the catalog")
        let call: CallRecord?
        do {
            call = try await calls.call(interactionId, integration: integration)
        } catch let error as CollectorError where error.kind == .conflict && !access.isAdmin {
            throw missing
        }
        guard let call, try await reaches(access, call: call) else { throw missing }
        return CallReviews.CallKey(integration: call.integration, interactionId: call.interactionId)
    }
}

extension Access {
    /// Admins, supervisors and QA write reviews of the calls they reach; agents read theirs.
    public var mayReview: Bool { !user.disabled && user.role != .agent }
    /// The same people export calls; agents play theirs, and a file of them leaves with nobody.
    public var mayExport: Bool { mayReview }
    /// What decides what this user sees of a call: role, scopes, workstation (for caching per reach).
    /// Not who they are: users who see the same share one export, so many admins exporting one long
    /// call hold one file, not one each (fourteen held 500 MB).
    public var fingerprint: String {
        "\(user.role.rawValue)|\(user.disabled)|\(user.scopes.sorted().joined(separator: ","))|\(user.workstation ?? "")"
    }
}
