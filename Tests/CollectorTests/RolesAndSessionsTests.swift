import CollectorCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RecorderCore
import TestSupport
import TestTraits
import Testing

/// Who sees what, enforced by the API: a supervisor of /emea/paris sees the calls of agents under it
/// (and of a call transferred to Lyon, only the Paris screen), a QA user of Lyon only Lyon's, an agent
/// their own workstation's calls once linked and nothing before, and nobody but admins the
/// configuration or the store. The web app's cookie session is HttpOnly, Secure and SameSite=Strict;
/// every change on it needs its CSRF token and the same origin; sessions end when idle.
@Suite(.serialized, .realTime)
struct RolesAndSessionsTests {
    static let password = "correct horse battery"

    /// Two sites with one workstation each, and three calls: Paris's, Lyon's, and one Paris passed to Lyon.
    static func twoSites(_ collector: Collector) async throws {
        for path in ["/emea/paris", "/emea/lyon"] {
            _ = try await collector.nodePaths.create(.init(path: path, storage: "builtin"), by: adminActor)
        }
        let (pbx, _) = try await collector.integrations.create(name: "pbx", kind: .webhook, by: adminActor)
        let paris = SimulatedAgent(id: "ws-paris", nodePath: "/emea/paris/sales")
        let lyon = SimulatedAgent(id: "ws-lyon", nodePath: "/emea/lyon")
        for (agent, external) in [(paris, "agent-p"), (lyon, "agent-l")] {
            _ = try await agent.enrol(with: collector, actor: adminActor)
            _ = try await collector.agentIdentities.set(integration: "pbx", externalId: external, agentId: agent.id, by: adminActor)
        }
        func event(_ id: String, _ type: String, _ call: String, _ leg: String, _ agent: String, extra: String = "") -> String {
            #"{"event_id":"\#(id)","type":"\#(type)","occurred_at":"2026-12-01T10:00:0\#(id.suffix(1))Z","interaction_id":"\#(call)","leg_id":"\#(leg)","agent_id":"\#(agent)"\#(extra)}"#
        }
        let events = [
            event("p1", "leg.started", "call-p", "p", "agent-p"), event("l1", "leg.started", "call-l", "l", "agent-l"),
            event("t1", "leg.started", "call-t", "t1", "agent-p"),
            event("t2", "leg.transferred", "call-t", "t1", "agent-p", extra: #","related_leg_id":"t2""#),
            event("t3", "leg.started", "call-t", "t2", "agent-l"),
        ]
        _ = try await collector.callEvents.accept(
            Data(#"{"events":[\#(events.joined(separator: ","))]}"#.utf8), from: pbx, source: "test")
        for (agent, leg) in [(paris, "t1"), (lyon, "t2")] {
            let segment = try agent.nextSegment(callId: "call-t") { $0.legs = [CallLeg(interactionId: "call-t", legId: leg)] }
            try agent.upload(segment, to: collector)
            _ = try await collector.acceptManifest(segment.manifestBytes, from: try await collector.agents.get(agent.id), source: "test")
        }
        let users: [(String, Users.Profile)] = [
            ("sup", .init(role: .supervisor, scopes: ["/emea/paris"])), ("qa-lyon", .init(role: .qa, scopes: ["/emea/lyon"])),
            ("agent-linked", .init(role: .agent, workstation: "ws-paris")), ("agent-alone", .init(role: .agent)),
            // A look-alike prefix reaches nothing of Paris.
            ("sup-par", .init(role: .supervisor, scopes: ["/emea/par"])),
        ]
        for (name, profile) in users {
            try await collector.users.create(username: name, password: password, profile: profile, by: adminActor)
        }
    }

    static func logIn(_ api: Session, _ username: String, _ password: String = password) async throws {
        api.token = nil
        let reply = try await api.send(.post, "/api/v1/auth/login", json: #"{"username":"\#(username)","password":"\#(password)"}"#)
        api.token = try #require(reply.json["token"] as? String, "\(username): \(reply.status) \(reply.json)")
    }

    static func calls(_ api: Session) async throws -> [String] {
        let reply = try await api.send(.get, "/api/v1/calls")
        return ((reply.json["items"] as? [[String: Any]]) ?? []).compactMap { $0["interaction_id"] as? String }.sorted()
    }

    @Test(arguments: Backend.allCases)
    func eachRoleSeesTheCallsInItsReachAndNothingElse(_ backend: Backend) async throws {
        try await withAPI(backend) { api, collector, adminPassword in
            try await Self.twoSites(collector)

            try await Self.logIn(api, "admin", adminPassword)
            #expect(try await Self.calls(api) == ["call-l", "call-p", "call-t"])

            try await Self.logIn(api, "sup")
            #expect(try await Self.calls(api) == ["call-p", "call-t"])
            #expect(try await api.send(.get, "/api/v1/calls/call-l").status == 404, "out of reach looks like no call")
            #expect(try await api.send(.get, "/api/v1/calls/call-l/timeline").status == 404)
            let transferred = try await api.send(.get, "/api/v1/calls/call-t/timeline")
            let screens = (transferred.json["screen"] as? [[String: Any]] ?? []).compactMap { $0["agent_id"] as? String }
            #expect(transferred.status == 200 && screens == ["ws-paris"], "only Paris's screen: \(screens)")
            let detail = try await api.send(.get, "/api/v1/calls/call-t")
            let segments = (detail.json["segments"] as? [[String: Any]] ?? []).compactMap {
                ($0["manifest"] as? [String: Any])?["agentId"] as? String
            }
            #expect(segments == ["ws-paris"], "\(segments)")
            for (method, path) in [
                (HTTPRequest.Method.get, "/api/v1/admin/node-paths"), (.get, "/api/v1/admin/audit"), (.get, "/api/v1/admin/users"),
                (.post, "/api/v1/admin/enrolment-codes"), (.get, "/api/v1/admin/agents"), (.get, "/api/v1/admin/integrations"),
                (.get, "/api/v1/calls/call-p/voice"), (.get, "/api/v1/admin/calls/call-p/events"),
            ] {
                let reply = try await api.send(method, path, json: "{}")
                #expect(reply.status == 403, "\(method) \(path): \(reply.status)")
            }

            try await Self.logIn(api, "qa-lyon")
            #expect(try await Self.calls(api) == ["call-l", "call-t"])
            #expect(try await api.send(.get, "/api/v1/calls/call-p").status == 404)
            try await Self.logIn(api, "sup-par")
            #expect(try await Self.calls(api) == [], "/emea/par is not /emea/paris")

            try await Self.logIn(api, "agent-linked")
            #expect(try await Self.calls(api) == ["call-p", "call-t"])
            try await Self.logIn(api, "agent-alone")
            #expect(try await Self.calls(api) == [])
            #expect(try await api.send(.get, "/api/v1/calls/call-p/timeline").status == 404)

            // The store is an admin's: a QA user's session or password opens nothing in it.
            try await Self.logIn(api, "qa-lyon")
            let store = try await api.send(.init("PROPFIND")!, "/dav/")
            #expect(store.status == 401, "\(store.status)")
        }
    }

    @Test func usersAreManagedByAdminsAndTheLastAdminStays() async throws {
        try await withAPI { api, collector, adminPassword in
            try await Self.logIn(api, "admin", adminPassword)
            let created = try await api.send(
                .post, "/api/v1/admin/users",
                json: #"{"username":"qa-1","password":"\#(Self.password)","role":"qa","scopes":["/emea/paris"]}"#)
            #expect(created.status == 201 && created.json["role"] as? String == "qa", "\(created.json)")
            let noScope = try await api.send(
                .post, "/api/v1/admin/users", json: #"{"username":"qa-2","password":"\#(Self.password)","role":"qa"}"#)
            #expect(noScope.status == 400 && noScope.errorMessage.contains("at least one node path"), "\(noScope.json)")
            let badScope = try await api.send(
                .post, "/api/v1/admin/users",
                json: #"{"username":"qa-3","password":"\#(Self.password)","role":"qa","scopes":["emea"]}"#)
            #expect(badScope.status == 400 && badScope.errorMessage.contains("invalid node path"), "\(badScope.json)")
            let lastAdmin = try await api.send(.patch, "/api/v1/admin/users/admin", json: #"{"role":"qa","scopes":["/"]}"#)
            #expect(lastAdmin.status == 409 && lastAdmin.errorMessage.contains("last admin"), "\(lastAdmin.json)")

            // Disabling ends the user's sessions at once.
            let qa = Session(api.client)
            try await Self.logIn(qa, "qa-1")
            #expect(try await qa.send(.get, "/api/v1/calls").status == 200)
            #expect(try await api.send(.patch, "/api/v1/admin/users/qa-1", json: #"{"disabled":true}"#).status == 200)
            #expect(try await qa.send(.get, "/api/v1/calls").status == 401)
            let audit = try await AuditLog.entries(limit: 3, in: collector.catalog.sql).map(\.action)
            #expect(audit.contains("user.update") && audit.contains("user.create"), "\(audit)")
        }
    }

    /// A request with the web app's cookie, and optionally its CSRF token and an origin.
    static func withCookie(
        _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, cookie: String, csrf: String? = nil,
        origin: String? = nil
    ) async throws -> Int {
        var headers: HTTPFields = [.cookie: "__Host-rc_session=\(cookie)", .contentType: "application/json"]
        if let csrf { headers[HTTPField.Name("X-CSRF-Token")!] = csrf }
        if let origin { headers[.origin] = origin }
        return try await client.execute(uri: uri, method: method, headers: headers, body: ByteBuffer(string: "{}")) {
            Int($0.status.code)
        }
    }

    @Test func theWebSessionIsACookieScriptsCannotReadAndEveryChangeNeedsItsCSRFToken() async throws {
        try await withAPI { api, collector, adminPassword in
            let (status, cookie, body) = try await api.client.execute(
                uri: "/api/v1/auth/session", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"username":"admin","password":"\#(adminPassword)"}"#)
            ) { response in
                (
                    Int(response.status.code), response.headers[.setCookie] ?? "",
                    (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
                )
            }
            #expect(status == 200, "\(body)")
            // Signing in is for this site's page only: no form elsewhere can sign a visitor in as someone else.
            for (type, origin, expected) in [
                ("text/plain", nil, 415), ("application/json", "https://evil.example", 403),
                ("application/json", "http://localhost:1", 403),
            ] as [(String, String?, Int)] {
                var headers: HTTPFields = [.contentType: type]
                if let origin { headers[.origin] = origin }
                let answer = try await api.client.execute(
                    uri: "/api/v1/auth/session", method: .post, headers: headers,
                    body: ByteBuffer(string: #"{"username":"admin","password":"\#(adminPassword)"}"#)
                ) { Int($0.status.code) }
                #expect(answer == expected, "\(type) from \(origin ?? "nowhere"): \(answer)")
            }
            for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
                #expect(cookie.contains(attribute), "\(cookie)")
            }
            #expect(body["token"] == nil, "the token never reaches the page's scripts")
            let token = try #require(cookie.firstMatch(of: /__Host-rc_session=(rcs_[^;]+)/).map { String($0.1) })
            let csrf = try #require(body["csrf_token"] as? String)

            #expect(try await Self.withCookie(api.client, .get, "/api/v1/calls", cookie: token) == 200)
            #expect(try await Self.withCookie(api.client, .get, "/api/v1/admin/node-paths", cookie: token) == 200)
            // A change without the token, with a wrong one, or from another site is refused.
            let change = "/api/v1/admin/enrolment-codes"
            #expect(try await Self.withCookie(api.client, .post, change, cookie: token) == 403)
            #expect(try await Self.withCookie(api.client, .post, change, cookie: token, csrf: String(repeating: "0", count: 64)) == 403)
            #expect(
                try await Self.withCookie(api.client, .post, change, cookie: token, csrf: csrf, origin: "https://evil.example") == 403)
            // The cookie's token is no bearer token (a script that found it could not use it as one).
            api.token = token
            #expect(try await api.send(.get, "/api/v1/calls").status == 401)
            api.token = nil

            // Signing out needs the token too, and ends the session.
            #expect(try await Self.withCookie(api.client, .delete, "/api/v1/auth/session", cookie: token) == 403)
            #expect(try await Self.withCookie(api.client, .delete, "/api/v1/auth/session", cookie: token, csrf: csrf) == 204)
            #expect(try await Self.withCookie(api.client, .get, "/api/v1/calls", cookie: token) == 401)

            // Idle for 30 minutes, a session is over; used within them, it lives on.
            let (fresh, _) = try await collector.users.logIn(
                username: "admin", password: adminPassword, source: "test", kind: .cookie)
            let later = Date().addingTimeInterval(20 * 60)
            #expect(try await collector.users.user(forSessionToken: fresh, kind: .cookie, now: later) != nil)
            #expect(try await collector.users.user(forSessionToken: fresh, kind: .cookie, now: later.addingTimeInterval(20 * 60)) != nil)
            #expect(try await collector.users.user(forSessionToken: fresh, kind: .cookie, now: later.addingTimeInterval(60 * 60)) == nil)
        }
    }
}
