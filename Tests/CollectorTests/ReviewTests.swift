import CollectorCore
import Foundation
import RecorderCore
import TestSupport
import TestTraits
import Testing

/// What QA adds to calls: notes at moments of a call, categories, custom fields and evaluations
/// against admin-defined forms, each audited; search by them; paging and saved searches. Only those
/// who review write, only on calls they reach, on SQLite and PostgreSQL alike.
@Suite(.serialized, .realTime)
struct ReviewTests {
    static let form = #"""
        {"name":"quality-v1","title":"Call quality","questions":[
          {"id":"greeting","text":"Greeted the caller by name","kind":"yes_no","points":10},
          {"id":"resolution","text":"Resolved the issue","kind":"scale","max":5,"points":20},
          {"id":"upsell","text":"Offered the upgrade","kind":"yes_no","points":5,"optional":true}]}
        """#

    static func defineReview(_ api: Session) async throws {
        for body in [
            #"{"name":"complaint","description":"The caller complains"}"#, #"{"name":"training","description":"Good for training"}"#,
        ] {
            #expect(try await api.send(.post, "/api/v1/admin/categories", json: body).status == 201)
        }
        #expect(try await api.send(.post, "/api/v1/admin/evaluation-forms", json: form).status == 201)
        for body in [
            #"{"name":"outcome","label":"Outcome","kind":"choice","choices":["resolved","escalated"]}"#,
            #"{"name":"ticket","label":"Ticket","kind":"text"}"#,
        ] {
            #expect(try await api.send(.post, "/api/v1/admin/custom-fields", json: body).status == 201)
        }
    }

    static func found(_ api: Session, _ query: String) async throws -> [String] {
        let reply = try await api.send(.get, "/api/v1/calls?\(query)")
        #expect(reply.status == 200, "\(query): \(reply.json)")
        return ((reply.json["items"] as? [[String: Any]]) ?? []).compactMap { $0["interaction_id"] as? String }.sorted()
    }

    @Test(arguments: Backend.allCases)
    func reviewersAnnotateTheCallsTheyReachAndSearchFindsThem(_ backend: Backend) async throws {
        try await withAPI(backend) { api, collector, password in
            try await RolesAndSessionsTests.twoSites(collector)
            try await collector.users.create(
                username: "sup2", password: RolesAndSessionsTests.password, profile: .init(role: .supervisor, scopes: ["/emea/paris"]),
                by: adminActor)
            try await api.logIn(password)
            try await Self.defineReview(api)
            let again = try await api.send(.post, "/api/v1/admin/evaluation-forms", json: Self.form)
            #expect(again.status == 409 && again.errorMessage.contains("new name"), "\(again.json)")
            let badForm = try await api.send(
                .post, "/api/v1/admin/evaluation-forms",
                json: #"{"name":"q2","title":"x","questions":[{"id":"a","text":"A","kind":"scale","points":5}]}"#)
            #expect(badForm.status == 400 && badForm.errorMessage.contains("needs max"), "\(badForm.json)")

            try await RolesAndSessionsTests.logIn(api, "sup")
            // A note at 1.5 s, with a right-to-left override that would reorder what the next reader sees.
            let note = try await api.send(
                .post, "/api/v1/calls/call-p/notes", json: #"{"at_ms":1500,"text":"Caller asks for a REFUND\u202e now\nsecond line"}"#)
            #expect(note.status == 201, "\(note.json)")
            #expect(note.json["text"] as? String == "Caller asks for a REFUND\\u{202e} now\nsecond line")
            #expect(note.json["author"] as? String == "sup")
            #expect(try await api.send(.post, "/api/v1/calls/call-p/notes", json: #"{"text":"   "}"#).status == 400)
            #expect(try await api.send(.post, "/api/v1/calls/call-p/notes", json: #"{"text":"x","at_ms":-5}"#).status == 400)
            #expect(try await api.send(.put, "/api/v1/calls/call-p/categories", json: #"{"categories":["complaint"]}"#).status == 200)
            let unknown = try await api.send(.put, "/api/v1/calls/call-p/categories", json: #"{"categories":["nope"]}"#)
            #expect(unknown.status == 400 && unknown.errorMessage.contains("no category nope"))
            let fields = try await api.send(.put, "/api/v1/calls/call-p/fields", json: #"{"values":{"outcome":"escalated","ticket":"TK-991"}}"#)
            #expect(fields.status == 200 && (fields.json["values"] as? [String: String]) == ["outcome": "escalated", "ticket": "TK-991"])
            let badChoice = try await api.send(.put, "/api/v1/calls/call-p/fields", json: #"{"values":{"outcome":"maybe"}}"#)
            #expect(badChoice.status == 400 && badChoice.errorMessage.contains("one of resolved, escalated"))
            // (10 + 20 × 3/5) of 30 points, the optional question n/a: 73 %.
            let evaluation = try await api.send(
                .post, "/api/v1/calls/call-p/evaluations",
                json: #"{"form":"quality-v1","answers":{"greeting":"yes","resolution":3,"upsell":"n/a"},"comment":"Calm, but no refund offered"}"#)
            #expect(evaluation.status == 201 && evaluation.json["score"] as? Int == 73, "\(evaluation.json)")
            for (answers, message) in [
                (#"{"greeting":"yes"}"#, "question resolution (Resolved the issue) is not answered"),
                (#"{"greeting":"n/a","resolution":3,"upsell":"no"}"#, "greeting must be answered"),
                (#"{"greeting":"yes","resolution":7,"upsell":"no"}"#, "answered 0 to 5"),
                (#"{"greeting":"yes","resolution":2,"upsell":"no","extra":"yes"}"#, "has no question extra"),
            ] {
                let reply = try await api.send(.post, "/api/v1/calls/call-p/evaluations", json: #"{"form":"quality-v1","answers":\#(answers)}"#)
                #expect(reply.status == 400 && reply.errorMessage.contains(message), "\(answers): \(reply.json)")
            }
            let review = try await api.send(.get, "/api/v1/calls/call-p/review")
            #expect((review.json["notes"] as? [[String: Any]])?.first?["at_ms"] as? Int == 1500)
            #expect(review.json["categories"] as? [String] == ["complaint"])
            #expect((review.json["evaluations"] as? [[String: Any]])?.count == 1 && review.json["can_edit"] as? Bool == true)
            // Lyon's call is out of Paris's reach: no review, no note.
            #expect(try await api.send(.get, "/api/v1/calls/call-l/review").status == 404)
            #expect(try await api.send(.post, "/api/v1/calls/call-l/notes", json: #"{"text":"x"}"#).status == 404)

            // Search by what was added, as the supervisor (who reaches call-p and call-t).
            for (query, expected) in [
                ("has_notes=true", ["call-p"]), ("has_notes=false", ["call-t"]), ("category=complaint", ["call-p"]),
                ("category=!complaint", ["call-t"]), ("category=complaint,training", ["call-p"]), ("score=%3E70", ["call-p"]),
                ("score=%3C50", []), ("score=70..80", ["call-p"]), ("text=refund", ["call-p"]), ("text=tk-991", ["call-p"]),
                ("text=no%20refund", ["call-p"]), ("text=agent-l", ["call-t"]), ("text=100%25", []), ("text=escalated", ["call-p"]),
                // A team: Paris's sales covers call-p and call-t (a Paris leg); Lyon's only call-t, of which sup sees
                // it as Paris's call; a look-alike prefix nothing.
                ("node_path=/emea/paris", ["call-p", "call-t"]), ("node_path=/emea/paris/sales/", ["call-p", "call-t"]),
                ("node_path=/emea/lyon", ["call-t"]), ("node_path=/emea/par", []),
            ] {
                #expect(try await Self.found(api, query) == expected, "\(query)")
            }
            let badScore = try await api.send(.get, "/api/v1/calls?score=high")
            #expect(badScore.status == 400 && badScore.errorMessage.contains("score: give a score from 0 to 100"))

            // Saved searches are the user's own.
            let saved = try await api.send(.put, "/api/v1/searches", json: #"{"name":"Complaints","query":"category=complaint"}"#)
            #expect(saved.status == 200)
            #expect(((try await api.send(.get, "/api/v1/searches")).json["items"] as? [[String: Any]])?.count == 1)

            // Another supervisor of Paris cannot take sup's note back; agents read, never write.
            try await RolesAndSessionsTests.logIn(api, "sup2")
            #expect(((try await api.send(.get, "/api/v1/searches")).json["items"] as? [[String: Any]])?.count == 0)
            let noteId = try #require(note.json["id"] as? Int)
            #expect(try await api.send(.delete, "/api/v1/calls/call-p/notes/\(noteId)").status == 403)
            try await RolesAndSessionsTests.logIn(api, "agent-linked")
            let agentView = try await api.send(.get, "/api/v1/calls/call-p/review")
            #expect(agentView.status == 200 && agentView.json["can_edit"] as? Bool == false)
            #expect(try await api.send(.post, "/api/v1/calls/call-p/notes", json: #"{"text":"mine"}"#).status == 403)
            try await RolesAndSessionsTests.logIn(api, "qa-lyon")
            #expect(try await api.send(.get, "/api/v1/calls/call-p/review").status == 404)
            #expect(try await api.send(.get, "/api/v1/review/definitions").json["forms"] as? [[String: Any]] != nil)
            #expect(try await api.send(.post, "/api/v1/admin/categories", json: #"{"name":"x","description":""}"#).status == 403)

            try await RolesAndSessionsTests.logIn(api, "sup")
            #expect(try await api.send(.delete, "/api/v1/calls/call-p/notes/\(noteId)").status == 204)
            #expect(try await Self.found(api, "has_notes=true") == [])
            #expect(try await api.send(.delete, "/api/v1/searches/Complaints").status == 204)

            // A category in use stays; a retired form takes no new evaluation but keeps its old one.
            try await api.logIn(password)
            let inUse = try await api.send(.delete, "/api/v1/admin/categories/complaint")
            #expect(inUse.status == 409 && inUse.errorMessage.contains("on 1 call"), "\(inUse.json)")
            #expect(try await api.send(.post, "/api/v1/admin/evaluation-forms/quality-v1/retire").status == 204)
            let retired = try await api.send(
                .post, "/api/v1/calls/call-p/evaluations", json: #"{"form":"quality-v1","answers":{"greeting":"yes","resolution":1,"upsell":"no"}}"#)
            #expect(retired.status == 400 && retired.errorMessage.contains("retired"))
            #expect(try await Self.found(api, "score=73") == ["call-p"])

            // Every change is in the audit trail; the note's words are not (its SHA-256 is).
            let entries = try await AuditLog.entries(limit: 200, in: collector.catalog.sql)
            let actions = Set(entries.map(\.action))
            for action in ["category.create", "form.create", "field.create", "note.add", "note.delete", "call.categorize", "call.fields",
                "call.evaluate", "form.retire"]
            {
                #expect(actions.contains(action), "\(action) audited")
            }
            let added = try #require(entries.first { $0.action == "note.add" })
            #expect(added.detail.contains("sha256 ") && !added.detail.contains("REFUND") && added.target == "call:pbx/call-p")
            #expect(try await AuditChain.verify(collector.catalog, key: collector.auditKey).ok)
        }
    }

    @Test func searchResultsComeInPages() async throws {
        try await withAPI { api, collector, password in
            try await RolesAndSessionsTests.twoSites(collector)
            try await api.logIn(password)
            var seen: [String] = []
            var offset: Int? = 0
            while let next = offset {
                let reply = try await api.send(.get, "/api/v1/calls?limit=1&offset=\(next)")
                seen += ((reply.json["items"] as? [[String: Any]]) ?? []).compactMap { $0["interaction_id"] as? String }
                offset = reply.json["next_offset"] as? Int
                #expect(seen.count <= 3)
            }
            #expect(seen.sorted() == ["call-l", "call-p", "call-t"])
            let deep = try await api.send(.get, "/api/v1/calls?offset=100001")
            #expect(deep.status == 400 && deep.errorMessage.contains("offset"))
        }
    }

    /// What one call's review and the definitions hold is bounded (a script adding notes without end
    /// made one review a 40 MB answer), and numbers are written in digits.
    @Test func reviewsAndDefinitionsAreBounded() async throws {
        try await withAPI { api, collector, password in
            try await RolesAndSessionsTests.twoSites(collector)
            try await api.logIn(password)
            #expect(
                try await api.send(.post, "/api/v1/admin/custom-fields", json: #"{"name":"amount","label":"Amount","kind":"number"}"#)
                    .status == 201)
            for given in ["0x1p3", "1e3", "inf", "1.", "-", "1,5"] {
                let refused = try await api.send(.put, "/api/v1/calls/call-p/fields", json: #"{"values":{"amount":"\#(given)"}}"#)
                #expect(refused.status == 400 && refused.errorMessage.contains("written in digits"), "\(given): \(refused.json)")
            }
            #expect(try await api.send(.put, "/api/v1/calls/call-p/fields", json: #"{"values":{"amount":"-12.50"}}"#).status == 200)
            let outOfRange = try await api.send(.get, "/api/v1/calls?score=101")
            #expect(outOfRange.status == 400 && outOfRange.errorMessage.contains("score: give a score from 0 to 100"))

            let call = CallReviews.CallKey(integration: "pbx", interactionId: "call-p")
            for index in 0..<500 {
                _ = try await collector.reviews.addNote(to: call, atMs: nil, text: "note \(index)", author: "admin", by: adminActor)
            }
            let full = try await api.send(.post, "/api/v1/calls/call-p/notes", json: #"{"text":"one more"}"#)
            #expect(full.status == 409 && full.errorMessage.contains("500 notes"), "\(full.json)")
            // A note taken back makes room again.
            let review = try await api.send(.get, "/api/v1/calls/call-p/review")
            let firstNote = try #require((review.json["notes"] as? [[String: Any]])?.first?["id"] as? Int)
            #expect(try await api.send(.delete, "/api/v1/calls/call-p/notes/\(firstNote)").status == 204)
            #expect(try await api.send(.post, "/api/v1/calls/call-p/notes", json: #"{"text":"one more"}"#).status == 201)

            for index in 0..<500 {
                _ = try await collector.reviewDefinitions.addCategory("c\(index)", description: "", by: adminActor)
            }
            let tooMany = try await api.send(.post, "/api/v1/admin/categories", json: #"{"name":"extra","description":""}"#)
            #expect(tooMany.status == 409 && tooMany.errorMessage.contains("500 categories"), "\(tooMany.json)")
        }
    }
}
