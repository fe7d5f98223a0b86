import Foundation
import RecorderCore
import SQLKit

/// What admins define for reviewing calls: categories to file them under, evaluation forms, and custom
/// fields. Every change is audited in its own transaction.
public struct ReviewDefinitions: Sendable {
    let catalog: Catalog

    public struct Category: Codable, Sendable, Equatable {
        public var name: String
        public var description: String
    }

    public struct Field: Codable, Sendable, Equatable {
        public var name: String
        public var label: String
        public var kind: Kind
        /// `choice` fields: the values allowed.
        public var choices: [String]

        public enum Kind: String, Codable, Sendable, CaseIterable {
            case text, number, choice
            public init(from decoder: any Decoder) throws { self = try StrictJSON.oneOf(decoder) }
        }

        public init(name: String, label: String, kind: Kind, choices: [String] = []) {
            self.name = name
            self.label = label
            self.kind = kind
            self.choices = choices
        }

        /// A value for this field, as stored: text bounded, a number as written, a choice one of its own.
        func check(_ given: String) throws -> String {
            let value = given.trimmingCharacters(in: .whitespacesAndNewlines)
            switch kind {
            case .text:
                let safe = OutsideText.printable(value)
                guard safe.unicodeScalars.count <= 500 else {
                    throw CollectorError(.invalid, "field \(name) holds at most 500 characters")
                }
                return safe
            case .number:
                // Written as people write numbers (12, -3.5): Double() also takes 0x1p3, 1e3 and inf.
                let digits = value.hasPrefix("-") ? value.dropFirst() : Substring(value)
                let parts = digits.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
                guard value.utf8.count <= 24, !parts.isEmpty,
                    parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { ("0"..."9").contains($0) } })
                else {
                    throw CollectorError(
                        .invalid, "field \(name) is a number written in digits (12, -3.5), found \"\(OutsideText.bounded(value, limit: 30))\"")
                }
                return value
            case .choice:
                guard choices.contains(value) else {
                    throw CollectorError(
                        .invalid,
                        "field \(name) is one of \(choices.joined(separator: ", ")), found \"\(OutsideText.bounded(value, limit: 60))\"")
                }
                return value
            }
        }
    }

    /// Everything a reviewer's page needs: categories, the forms still in use, and fields.
    public struct All: Codable, Sendable {
        public var categories: [Category]
        public var forms: [EvaluationForm]
        public var fields: [Field]
    }

    public func all(includingRetired: Bool = false) async throws -> All {
        let categories = try await catalog.sql.raw("SELECT name, description FROM review_categories ORDER BY name").all().map {
            Category(name: try $0.decode(column: "name", as: String.self), description: try $0.decode(column: "description", as: String.self))
        }
        let forms = try await catalog.sql.raw("SELECT definition, retired FROM evaluation_forms ORDER BY name").all().map { row in
            var form = try StrictJSON.decode(EvaluationForm.self, from: Data(try row.decode(column: "definition", as: String.self).utf8))
            form.retired = try row.decode(column: "retired", as: Int.self) != 0
            return form
        }
        let fields = try await catalog.sql.raw("SELECT name, label, kind, choices FROM custom_fields ORDER BY name").all().map(Self.field(row:))
        return All(categories: categories, forms: includingRetired ? forms : forms.filter { !$0.retired }, fields: fields)
    }

    // MARK: - Categories

    public func addCategory(_ name: String, description: String, by actor: Actor) async throws -> Category {
        try ReviewNames.check(name, what: "category name")
        let category = Category(name: name, description: OutsideText.bounded(description.trimmingCharacters(in: .whitespacesAndNewlines), limit: 200))
        try await catalog.transaction { database in
            guard try await database.raw("SELECT 1 AS x FROM review_categories WHERE name = \(bind: name)").first() == nil else {
                throw CollectorError(.conflict, "category \(name) exists already")
            }
            try await ReviewLimits.ensureRoom(
                database, counting: "SELECT COUNT(*) AS n FROM review_categories", limit: ReviewLimits.categories,
                "there are \(ReviewLimits.categories) categories, the most the collector keeps; remove unused ones first")
            try await database.raw(
                "INSERT INTO review_categories (name, description, created_at) VALUES (\(bind: name), \(bind: category.description), \(bind: Timestamp.now()))"
            ).run()
            try await AuditLog.record("category.create", target: "category:\(name)", detail: category.description, by: actor, in: database)
        }
        return category
    }

    /// Only a category no call is filed under: removing it must not quietly unfile calls.
    public func removeCategory(_ name: String, by actor: Actor) async throws {
        try await catalog.transaction { database in
            let used = try await database.raw("SELECT COUNT(*) AS n FROM call_categories WHERE category = \(bind: name)").first()?
                .decode(column: "n", as: Int.self) ?? 0
            guard used == 0 else {
                throw CollectorError(.conflict, "category \(name) is on \(used) call(s); take it off them first")
            }
            guard try await database.raw("SELECT 1 AS x FROM review_categories WHERE name = \(bind: name)").first() != nil else {
                throw CollectorError(.notFound, "no category \(OutsideText.bounded(name, limit: 60))")
            }
            try await database.raw("DELETE FROM review_categories WHERE name = \(bind: name)").run()
            try await AuditLog.record("category.delete", target: "category:\(name)", by: actor, in: database)
        }
    }

    // MARK: - Forms

    /// A new form. Forms are never edited: a changed form is a new name, the old one retired, so every
    /// past score keeps the questions it was given against.
    public func addForm(_ given: EvaluationForm, by actor: Actor) async throws -> EvaluationForm {
        var checked = try given.validated()
        checked.retired = false
        let form = checked
        let definition = String(decoding: try StrictJSON.encode(form), as: UTF8.self)
        try await catalog.transaction { database in
            guard try await database.raw("SELECT 1 AS x FROM evaluation_forms WHERE name = \(bind: form.name)").first() == nil else {
                throw CollectorError(.conflict, "form \(form.name) exists already; forms are not edited: add one with a new name and retire this one")
            }
            try await ReviewLimits.ensureRoom(
                database, counting: "SELECT COUNT(*) AS n FROM evaluation_forms", limit: ReviewLimits.forms,
                "there are \(ReviewLimits.forms) evaluation forms, retired ones included, the most the collector keeps")
            try await database.raw(
                """
                INSERT INTO evaluation_forms (name, title, definition, retired, created_at)
                VALUES (\(bind: form.name), \(bind: form.title), \(bind: definition), 0, \(bind: Timestamp.now()))
                """
            ).run()
            try await AuditLog.record(
                "form.create", target: "form:\(form.name)", detail: "\(form.questions.count) questions", by: actor, in: database)
        }
        return form
    }

    public func retireForm(_ name: String, by actor: Actor) async throws {
        try await catalog.transaction { database in
            guard try await database.raw("SELECT 1 AS x FROM evaluation_forms WHERE name = \(bind: name)").first() != nil else {
                throw CollectorError(.notFound, "no evaluation form \(OutsideText.bounded(name, limit: 60))")
            }
            try await database.raw("UPDATE evaluation_forms SET retired = 1 WHERE name = \(bind: name)").run()
            try await AuditLog.record("form.retire", target: "form:\(name)", by: actor, in: database)
        }
    }

    /// A form that takes evaluations now.
    func activeForm(_ name: String, in database: any SQLDatabase) async throws -> (form: EvaluationForm, definition: String) {
        guard let row = try await database.raw("SELECT definition, retired FROM evaluation_forms WHERE name = \(bind: name)").first() else {
            throw CollectorError(.invalid, "no evaluation form \(OutsideText.bounded(name, limit: 60)); an admin defines forms")
        }
        guard try row.decode(column: "retired", as: Int.self) == 0 else {
            throw CollectorError(.invalid, "evaluation form \(name) is retired: evaluate with its successor")
        }
        let definition = try row.decode(column: "definition", as: String.self)
        return (try StrictJSON.decode(EvaluationForm.self, from: Data(definition.utf8)), definition)
    }

    // MARK: - Custom fields

    public func addField(_ given: Field, by actor: Actor) async throws -> Field {
        try ReviewNames.check(given.name, what: "field name")
        var field = given
        field.label = OutsideText.bounded(given.label.trimmingCharacters(in: .whitespacesAndNewlines), limit: 80)
        guard !field.label.isEmpty else { throw CollectorError(.invalid, "field \(given.name) needs a label") }
        field.choices = given.choices.map { OutsideText.bounded($0.trimmingCharacters(in: .whitespaces), limit: 80) }
        switch field.kind {
        case .choice:
            guard (2...50).contains(field.choices.count), Set(field.choices).count == field.choices.count,
                !field.choices.contains("")
            else {
                throw CollectorError(.invalid, "a choice field has 2 to 50 distinct, non-empty choices")
            }
        case .text, .number:
            guard field.choices.isEmpty else { throw CollectorError(.invalid, "only choice fields take choices") }
        }
        let choices = String(decoding: try StrictJSON.encode(field.choices), as: UTF8.self)
        try await catalog.transaction { [field] database in
            guard try await database.raw("SELECT 1 AS x FROM custom_fields WHERE name = \(bind: field.name)").first() == nil else {
                throw CollectorError(.conflict, "field \(field.name) exists already")
            }
            try await ReviewLimits.ensureRoom(
                database, counting: "SELECT COUNT(*) AS n FROM custom_fields", limit: ReviewLimits.fields,
                "there are \(ReviewLimits.fields) custom fields, the most the collector keeps; remove unused ones first")
            try await database.raw(
                """
                INSERT INTO custom_fields (name, label, kind, choices, created_at)
                VALUES (\(bind: field.name), \(bind: field.label), \(bind: field.kind.rawValue), \(bind: choices), \(bind: Timestamp.now()))
                """
            ).run()
            try await AuditLog.record("field.create", target: "field:\(field.name)", detail: field.kind.rawValue, by: actor, in: database)
        }
        return field
    }

    /// Removes the field and every call's value of it (the audit entry says how many).
    public func removeField(_ name: String, by actor: Actor) async throws {
        try await catalog.transaction { database in
            guard try await database.raw("SELECT 1 AS x FROM custom_fields WHERE name = \(bind: name)").first() != nil else {
                throw CollectorError(.notFound, "no custom field \(OutsideText.bounded(name, limit: 60))")
            }
            let values = try await database.raw("SELECT COUNT(*) AS n FROM call_field_values WHERE field = \(bind: name)").first()?
                .decode(column: "n", as: Int.self) ?? 0
            try await database.raw("DELETE FROM call_field_values WHERE field = \(bind: name)").run()
            try await database.raw("DELETE FROM custom_fields WHERE name = \(bind: name)").run()
            try await AuditLog.record("field.delete", target: "field:\(name)", detail: "\(values) call value(s) removed", by: actor, in: database)
        }
    }

    func field(_ name: String, in database: any SQLDatabase) async throws -> Field? {
        try await database.raw("SELECT name, label, kind, choices FROM custom_fields WHERE name = \(bind: name)").first().map(Self.field(row:))
    }

    static func field(row: any SQLRow) throws -> Field {
        Field(
            name: try row.decode(column: "name", as: String.self), label: try row.decode(column: "label", as: String.self),
            kind: Field.Kind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .text,
            choices: try StrictJSON.decode([String].self, from: Data(try row.decode(column: "choices", as: String.self).utf8)))
    }
}
