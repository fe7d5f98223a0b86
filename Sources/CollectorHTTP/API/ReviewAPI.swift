import CollectorCore
import Foundation
import Hummingbird
import RecorderCore

/// What reviewers add to calls, and what admins define for it (`CollectorCore/Review/`):
///
/// * `GET /api/v1/calls/{interaction}/review`: notes, categories, custom fields and evaluations;
/// * `POST …/notes`, `DELETE …/notes/{id}`, `PUT …/categories`, `PUT …/fields`, `POST …/evaluations`;
/// * `GET /api/v1/review/definitions`: the categories, active forms and fields, for every role;
/// * `GET|PUT|DELETE /api/v1/searches[/{name}]`: the user's saved searches;
/// * admin: `/api/v1/admin/categories`, `/evaluation-forms`, `/custom-fields`.
///
/// A call out of the user's reach is 404 here as everywhere; agents read reviews, never write them.
struct ReviewAPI {
    let collector: Collector

    func register(on router: Router<CollectorContext>) {
        let everyone = Set(Users.Role.allCases)
        let calls = router.group("api/v1/calls").add(middleware: SessionAuthentication(collector: collector, roles: everyone))
        calls.get(":interaction/review") { request, context in
            let call = try await call(request, context)
            return try await collector.reviews.review(of: call, canEdit: context.access.mayReview)
        }
        calls.post(":interaction/notes") { request, context in
            let call = try await reviewed(request, context)
            let input = try await request.decodeStrict(NoteInput.self, context: context)
            let note = try await collector.reviews.addNote(
                to: call, atMs: input.atMs, text: input.text, author: context.user!.username, by: context.actor)
            return EditedResponse(status: .created, response: note)
        }
        calls.delete(":interaction/notes/:note") { request, context in
            let call = try await reviewed(request, context)
            guard let id = Int(try context.parameters.require("note")) else {
                throw CollectorError(.invalid, "a note id is a whole number")
            }
            try await collector.reviews.deleteNote(
                id, of: call, user: context.user!.username, isAdmin: context.access.isAdmin, by: context.actor)
            return HTTPResponse.Status.noContent
        }
        calls.put(":interaction/categories") { request, context in
            let call = try await reviewed(request, context)
            let input = try await request.decodeStrict(CategoriesInput.self, context: context)
            return Items(items: try await collector.reviews.setCategories(input.categories, of: call, by: context.actor))
        }
        calls.put(":interaction/fields") { request, context in
            let call = try await reviewed(request, context)
            let input = try await request.decodeStrict(FieldsInput.self, context: context)
            return FieldValues(values: try await collector.reviews.setFields(input.values, of: call, by: context.actor))
        }
        calls.post(":interaction/evaluations") { request, context in
            let call = try await reviewed(request, context)
            let input = try await request.decodeStrict(EvaluationInput.self, context: context)
            let evaluation = try await collector.reviews.evaluate(
                call, form: input.form, answers: input.answers, comment: input.comment ?? "",
                evaluator: context.user!.username, by: context.actor)
            return EditedResponse(status: .created, response: evaluation)
        }

        router.group("api/v1/review").add(middleware: SessionAuthentication(collector: collector, roles: everyone))
            .get("definitions") { _, _ in try await collector.reviewDefinitions.all() }

        let searches = router.group("api/v1/searches").add(middleware: SessionAuthentication(collector: collector, roles: everyone))
        searches.get { _, context in Items(items: try await collector.savedSearches.list(userId: context.user!.id)) }
        searches.put { request, context in
            let input = try await request.decodeStrict(SavedSearches.Search.self, context: context)
            return try await collector.savedSearches.save(input, userId: context.user!.id)
        }
        searches.delete(":name") { _, context in
            let name = try context.parameters.require("name").removingPercentEncoding ?? ""
            try await collector.savedSearches.delete(name, userId: context.user!.id)
            return HTTPResponse.Status.noContent
        }

        let admin = router.group("api/v1/admin").add(middleware: SessionAuthentication(collector: collector))
        let definitions = collector.reviewDefinitions
        admin.get("categories") { _, _ in Items(items: try await definitions.all().categories) }
        admin.post("categories") { request, context in
            let input = try await request.decodeStrict(ReviewDefinitions.Category.self, context: context)
            let category = try await definitions.addCategory(input.name, description: input.description, by: context.actor)
            return EditedResponse(status: .created, response: category)
        }
        admin.delete("categories/:name") { _, context in
            try await definitions.removeCategory(try context.parameters.require("name"), by: context.actor)
            return HTTPResponse.Status.noContent
        }
        admin.get("evaluation-forms") { _, _ in Items(items: try await definitions.all(includingRetired: true).forms) }
        admin.post("evaluation-forms") { request, context in
            let input = try await request.decodeStrict(FormInput.self, context: context)
            let form = try await definitions.addForm(
                EvaluationForm(name: input.name, title: input.title, questions: input.questions), by: context.actor)
            return EditedResponse(status: .created, response: form)
        }
        admin.post("evaluation-forms/:name/retire") { _, context in
            try await definitions.retireForm(try context.parameters.require("name"), by: context.actor)
            return HTTPResponse.Status.noContent
        }
        admin.get("custom-fields") { _, _ in Items(items: try await definitions.all().fields) }
        admin.post("custom-fields") { request, context in
            let input = try await request.decodeStrict(FieldInput.self, context: context)
            let field = try await definitions.addField(
                ReviewDefinitions.Field(name: input.name, label: input.label, kind: input.kind, choices: input.choices ?? []),
                by: context.actor)
            return EditedResponse(status: .created, response: field)
        }
        admin.delete("custom-fields/:name") { _, context in
            try await definitions.removeField(try context.parameters.require("name"), by: context.actor)
            return HTTPResponse.Status.noContent
        }
    }

    /// The call named in the path, if the user reaches it.
    func call(_ request: Request, _ context: CollectorContext) async throws -> CallReviews.CallKey {
        try await collector.reviewedCall(
            try CallAPI.interaction(context), integration: PlaybackAPI.integration(request), for: context.access)
    }

    /// The same, for a change: only by those who review.
    func reviewed(_ request: Request, _ context: CollectorContext) async throws -> CallReviews.CallKey {
        let key = try await call(request, context)
        guard context.access.mayReview else {
            throw CollectorError(.forbidden, "agents read their calls' reviews; supervisors, QA and admins write them")
        }
        return key
    }
}

struct NoteInput: Decodable {
    var text: String
    var atMs: Int64?

    enum CodingKeys: String, CodingKey {
        case text
        case atMs = "at_ms"
    }
}

struct CategoriesInput: Decodable {
    var categories: [String]
}

struct FieldsInput: Decodable {
    /// A value sets the field; null clears it.
    var values: [String: String?]
}

struct FieldValues: ResponseEncodable, Sendable {
    var values: [String: String]
}

struct EvaluationInput: Decodable {
    var form: String
    var answers: [String: EvaluationForm.Answer]
    var comment: String?
}

struct FormInput: Decodable {
    var name: String
    var title: String
    var questions: [EvaluationForm.Question]
}

struct FieldInput: Decodable {
    var name: String
    var label: String
    var kind: ReviewDefinitions.Field.Kind
    var choices: [String]?
}

extension CallReviews.Review: ResponseEncodable {}
extension CallReviews.Note: ResponseEncodable {}
extension CallReviews.Evaluation: ResponseEncodable {}
extension ReviewDefinitions.All: ResponseEncodable {}
extension ReviewDefinitions.Category: ResponseEncodable {}
extension ReviewDefinitions.Field: ResponseEncodable {}
extension EvaluationForm: ResponseEncodable {}
extension SavedSearches.Search: ResponseEncodable {}
