import CollectorCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TestSupport
import TestTraits
import Testing

/// `POST /api/v1/cti/events`: an integration's token, one event or a batch, repeats counted and
/// ignored, the raw body kept, and hostile posts refused whole with the field named.
@Suite(.serialized, .realTime)
struct CallEventIntakeTests {
    static func event(_ id: String, _ type: String, at time: String, extra: String = "") -> String {
        #"{"event_id":"\#(id)","type":"\#(type)","occurred_at":"\#(time)","interaction_id":"call-1","leg_id":"leg-1","agent_id":"genesys-user-7"\#(extra)}"#
    }

    @Test(arguments: Backend.allCases)
    func eventsAreStoredOnceWithTheirRawBody(_ backend: Backend) async throws {
        try await withAPI(backend) { api, collector, password in
            try await api.logIn(password)
            let created = try await api.send(.post, "/api/v1/admin/integrations", json: #"{"name":"genesys-emea"}"#)
            #expect(created.status == 201, "\(created.json)")
            let token = try #require(created.json["token"] as? String)
            let adminToken = api.token
            func post(_ body: String, token: String? = token) async throws -> Reply {
                api.token = token
                defer { api.token = adminToken }
                return try await api.send(.post, "/api/v1/cti/events", json: body)
            }
            let start = Self.event("e-1", "leg.started", at: "2026-11-23T12:00:00.000Z", extra: #","direction":"inbound","ani":"+331234""#)
            let first = try await post(start)
            #expect(first.status == 200 && first.json["accepted"] as? Int == 1, "\(first.json)")
            let again = try await post(start)
            #expect(again.json["accepted"] as? Int == 0 && again.json["duplicates"] as? Int == 1, "\(again.json)")
            let batch = #"{"events":["#
                + [
                    Self.event("e-3", "leg.resumed", at: "2026-11-23T12:00:20Z"),
                    Self.event("e-2", "leg.held", at: "2026-11-23T12:00:10Z"),
                    Self.event("e-4", "leg.ended", at: "2026-11-23T12:01:00+01:00"),
                ].joined(separator: ",") + "]}"
            #expect(try await post(batch).json["accepted"] as? Int == 3)

            let listed = try await api.send(.get, "/api/v1/admin/calls/call-1/events")
            let items = listed.json["items"] as? [[String: Any]] ?? []
            let ids = items.compactMap { ($0["event"] as? [String: Any])?["event_id"] as? String }
            // 12:01+01:00 is 11:01 UTC: the first of them by its instant, whatever its text says.
            #expect(ids == ["e-4", "e-1", "e-2", "e-3"], "by occurred-at: \(ids)")
            #expect(items.allSatisfy { ($0["event"] as? [String: Any])?["received_at"] is String }, "stamped on arrival")
            #expect(try await collector.callEvents.rawBodies(interactionId: "call-1") == [start, batch], "kept exactly")

            // One bad event refuses the whole post, names where, and stores nothing.
            let bad = #"{"events":["# + Self.event("e-5", "leg.held", at: "2026-11-23T12:02:00Z") + ","
                + Self.event("e-6", "leg.resumed", at: "1970-01-01T00:00:00Z") + "]}"
            let refused = try await post(bad)
            #expect(refused.status == 400 && refused.errorMessage.contains("events[1].occurred_at is in 1970"), "\(refused.json)")
            #expect(try await collector.callEvents.events(interactionId: "call-1").count == 4)

            for (body, status, message) in [
                ("{\"events\":[", 400, "not valid JSON"),
                (#"{"events":null}"#, 400, "events"),
                (String(repeating: "[", count: 10_000), 400, "not valid JSON"),
                (Self.event("e-7", "leg.held", at: "2026-11-23T12:00:00Z", extra: #","leg_id":"x""#), 400, "given twice"),
                (Self.event("e-8", "leg.started", at: "2026-11-23T12:00:00Z", extra: #","queue":"a\u0000""#), 400, "U+0000"),
                (String(repeating: " ", count: 300_000), 413, "at most"),
            ] {
                let reply = try await post(body)
                #expect(reply.status == status && reply.errorMessage.contains(message), "\(body.prefix(80)): \(reply.json)")
            }
            // A post of nothing but repeats stores nothing, not even its body.
            func requests() async throws -> Int {
                try await collector.catalog.sql.raw("SELECT COUNT(*) AS n FROM cti_requests").first()?.decode(
                    column: "n", as: Int.self) ?? -1
            }
            let stored = try await requests()
            #expect(try await post(batch).json["duplicates"] as? Int == 3)
            #expect(try await requests() == stored, "no body kept for a post of repeats")
            // Ids with path characters are found through their percent-encoding.
            _ = try await post(
                #"{"event_id":"s-1","type":"leg.started","occurred_at":"2026-11-23T12:00:00Z","interaction_id":"sip/ab c@ü","leg_id":"l"}"#)
            let encoded = try await api.send(.get, "/api/v1/admin/calls/sip%2Fab%20c%40%C3%BC/events")
            #expect((encoded.json["items"] as? [Any])?.count == 1, "\(encoded.json)")
            #expect(try await post(start, token: nil).status == 401)
            #expect(try await post(start, token: "rci_forged").status == 401)
            #expect(try await api.send(.post, "/api/v1/admin/integrations/genesys-emea/revoke").status == 204)
            let revoked = try await post(Self.event("e-9", "leg.started", at: "2026-11-23T13:00:00Z"))
            #expect(revoked.status == 401 && revoked.errorMessage.contains("revoked"), "\(revoked.json)")
            let audit = try await AuditLog.entries(in: collector.catalog.sql).map(\.action)
            for action in ["integration.create", "integration.revoke", "integration.token_failed"] {
                #expect(audit.contains(action), "\(action) audited")
            }
        }
    }

    /// Events reach the workstation where the phone system's agent sits now; an unmapped agent's events
    /// are kept and counted, delivered to nobody; moving the person moves the next events.
    @Test(arguments: Backend.allCases)
    func eventsAreRoutedToTheWorkstationWhereTheAgentSits(_ backend: Backend) async throws {
        try await withAPI(backend) { api, collector, password in
            try await api.logIn(password)
            let adminToken = api.token
            let a = try await SimulatedAgent(id: "ws-a", nodePath: "/").enrol(with: collector, actor: adminActor)
            let b = try await SimulatedAgent(id: "ws-b", nodePath: "/").enrol(with: collector, actor: adminActor)
            let token = try #require(
                try await api.send(.post, "/api/v1/admin/integrations", json: #"{"name":"pbx"}"#).json["token"] as? String)
            let mapped = try await api.send(
                .post, "/api/v1/admin/agent-identities",
                json: #"{"integration":"pbx","external_id":"arn:aws:connect:eu-west-1:1:instance/i/agent/7","agent_id":"ws-a"}"#)
            #expect(mapped.status == 200, "\(mapped.json)")
            let nobody = try await api.send(
                .post, "/api/v1/admin/agent-identities", json: #"{"integration":"pbx","external_id":"x","agent_id":"ws-zz"}"#)
            #expect(nobody.status == 404 && nobody.errorMessage.contains("no enrolled agent ws-zz"))

            func post(_ id: String, agent: String) async throws -> Reply {
                api.token = token
                defer { api.token = adminToken }
                return try await api.send(
                    .post, "/api/v1/cti/events",
                    json: #"{"event_id":"\#(id)","type":"leg.started","occurred_at":"2026-11-23T12:00:00Z","interaction_id":"c-\#(id)","leg_id":"l-\#(id)","agent_id":"\#(agent)"}"#)
            }
            let routed = try await post("r-1", agent: "arn:aws:connect:eu-west-1:1:instance/i/agent/7")
            #expect(routed.json["unrouted"] as? Int == 0, "\(routed.json)")
            let lost = try await post("r-2", agent: "genesys-user-9")
            #expect(lost.json["accepted"] as? Int == 1 && lost.json["unrouted"] as? Int == 1)
            #expect(lost.json["unmapped_agents"] as? [String] == ["genesys-user-9"])

            func delivered(_ agentToken: String, after: Int64 = 0) async throws -> [[String: Any]] {
                api.token = agentToken
                defer { api.token = adminToken }
                return try await api.send(.get, "/api/v1/agent/call-events?after=\(after)").json["items"] as? [[String: Any]] ?? []
            }
            let first = try await delivered(a)
            #expect(first.compactMap { ($0["event"] as? [String: Any])?["event_id"] as? String } == ["r-1"])
            let cursor = try #require(first.first?["cursor"] as? Int)
            #expect(first.first?["integration"] as? String == "pbx")
            for bad in ["abc", "-1", "1.5", "99999999999999999999"] {
                api.token = a
                let refused = try await api.send(.get, "/api/v1/agent/call-events?after=\(bad)")
                api.token = adminToken
                #expect(refused.status == 400 && refused.errorMessage.contains("after must be the cursor"), "\(bad): \(refused.json)")
            }
            #expect(try await delivered(a, after: Int64(cursor)).isEmpty, "nothing new after the cursor")
            #expect(try await delivered(b).isEmpty, "another workstation's events are not ws-b's")

            // The person moves to ws-b: the next event follows them.
            _ = try await collector.agentIdentities.set(
                integration: "pbx", externalId: "arn:aws:connect:eu-west-1:1:instance/i/agent/7", agentId: "ws-b",
                by: adminActor)
            _ = try await post("r-3", agent: "arn:aws:connect:eu-west-1:1:instance/i/agent/7")
            #expect(try await delivered(b).compactMap { ($0["event"] as? [String: Any])?["event_id"] as? String } == ["r-3"])
            #expect(try await delivered(a, after: Int64(cursor)).isEmpty)
        }
    }

    /// Hot-desking: a workstation's softphone says who sits at it, where the integration allows it;
    /// that person's next calls follow them there.
    @Test(arguments: Backend.allCases)
    func workstationsLogAgentsInWhereAllowed(_ backend: Backend) async throws {
        try await withAPI(backend) { api, collector, password in
            try await api.logIn(password)
            let adminToken = api.token
            let a = try await SimulatedAgent(id: "ws-a", nodePath: "/").enrol(with: collector, actor: adminActor)
            let b = try await SimulatedAgent(id: "ws-b", nodePath: "/").enrol(with: collector, actor: adminActor)
            _ = try await api.send(.post, "/api/v1/admin/integrations", json: #"{"name":"pbx"}"#)
            let desk = try #require(
                try await api.send(.post, "/api/v1/admin/integrations", json: #"{"name":"desk","workstation_logins":true}"#)
                    .json["token"] as? String)
            func login(_ token: String, _ integration: String) async throws -> Reply {
                api.token = token
                defer { api.token = adminToken }
                return try await api.send(
                    .post, "/api/v1/agent/identities", json: #"{"integration":"\#(integration)","external_id":"agent-7"}"#)
            }
            let refused = try await login(a, "pbx")
            #expect(refused.status == 403 && refused.errorMessage.contains("--workstation-logins"), "\(refused.json)")
            #expect(try await login(a, "nope").status == 404)
            #expect(try await login(a, "desk").status == 200)
            func routed(_ id: String) async throws -> [String] {
                api.token = desk
                let reply = try await api.send(
                    .post, "/api/v1/cti/events",
                    json: #"{"event_id":"\#(id)","type":"leg.started","occurred_at":"2026-12-01T10:00:00Z","interaction_id":"c-\#(id)","leg_id":"l","agent_id":"agent-7"}"#)
                api.token = adminToken
                #expect(reply.json["unrouted"] as? Int == 0, "\(reply.json)")
                return try await collector.calls.call("c-\(id)")?.legs.compactMap(\.workstation) ?? []
            }
            #expect(try await routed("1") == ["ws-a"])
            #expect(try await login(b, "desk").status == 200, "the person moved to ws-b")
            #expect(try await routed("2") == ["ws-b"])
            let audit = try await AuditLog.entries(in: collector.catalog.sql)
            #expect(audit.contains { $0.action == "agent_identity.login_refused" && $0.actor == "agent:ws-a" })
            #expect(audit.contains { $0.action == "agent_identity.set" && $0.actor == "agent:ws-b" })
        }
    }
}
