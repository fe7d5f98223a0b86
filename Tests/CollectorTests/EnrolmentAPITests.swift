import CollectorCore
import Crypto
import Foundation
import HummingbirdTesting
import TestTraits
import TestSupport
import Testing

/// Enrolment through the API: one code, one agent; every refusal is a precise 4xx and spends nothing.
@Suite(.serialized, .realTime)
struct EnrolmentAPITests {
    let signingKey = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString()

    func enrolBody(code: String, agentId: String = "ws-1", key: String? = nil) -> String {
        #"{"code":"\#(code)","agent_id":"\#(agentId)","hostname":"ws-1.example","signing_key":"\#(key ?? signingKey)"}"#
    }

    @Test(arguments: Backend.allCases)
    func codesAreSingleUseAndRefusalsSpendNothing(_ backend: Backend) async throws {
        try await withAPI(backend) { api, collector, password in
            try await api.logIn(password)
            let made = try await api.send(
                .post, "/api/v1/admin/enrolment-codes", json: #"{"node_path":"/emea/paris/sales"}"#)
            #expect(made.status == 201, "\(made.json)")
            let code = try #require(made.json["code"] as? String)
            #expect(code.count == 19 && code.split(separator: "-").count == 4)
            api.token = nil

            let refusals: [(String, Int, String)] = [
                (enrolBody(code: "AAAA-BBBB-CCCC-DDDD"), 401, "unknown enrolment code"),
                (enrolBody(code: code, agentId: "../etc"), 400, "agent_id \"../etc\""),
                // Its store area would be the day's voice recordings.
                (enrolBody(code: code, agentId: "voice"), 400, "the name of the voice recordings' folder"),
                (enrolBody(code: code, key: "bm90IGEga2V5"), 400, "signing_key must be the agent's Ed25519 public key"),
                (#"{"code":"\#(code)","agent_id":"ws-1"}"#, 400, "signing_key is required"),
                (
                    #"{"code":"\#(code)","agent_id":"ws-1","signing_key":"x","role":"admin"}"#, 400,
                    #"unknown key "role""#
                ),
            ]
            for (body, status, message) in refusals {
                let reply = try await api.send(.post, "/api/v1/agents/enrol", json: body)
                #expect(reply.status == status && reply.errorMessage.contains(message), "\(body): \(reply.json)")
            }
            #expect(try await collector.agents.list().isEmpty)

            let enrolled = try await api.send(.post, "/api/v1/agents/enrol", json: enrolBody(code: code.lowercased()))
            #expect(enrolled.status == 201, "\(enrolled.json)")
            let token = try #require(enrolled.json["agent_token"] as? String)
            let configuration = try #require(enrolled.json["configuration"] as? [String: Any])
            #expect(configuration["node_path"] as? String == "/emea/paris/sales")
            #expect((configuration["storage"] as? [String: Any])?["auth"] as? String == "agent_token", "builtin via /")
            #expect((configuration["recipient_certificates_pem"] as? [String])?.count == 1)

            let again = try await api.send(.post, "/api/v1/agents/enrol", json: enrolBody(code: code, agentId: "ws-2"))
            #expect(again.status == 401 && again.errorMessage.contains("used already"))

            api.token = token
            #expect(try await api.send(.get, "/api/v1/agent/config").status == 200)
            api.token = "rca_forged"
            #expect(try await api.send(.get, "/api/v1/agent/config").status == 401)

            // The same agent id cannot enrol twice while active; once revoked, only when an admin allows it.
            try await api.logIn(password)
            let second = try #require(
                try await api.send(.post, "/api/v1/admin/enrolment-codes", json: #"{"node_path":"/emea"}"#).json["code"]
                    as? String)
            api.token = nil
            let conflict = try await api.send(.post, "/api/v1/agents/enrol", json: enrolBody(code: second))
            #expect(conflict.status == 409 && conflict.errorMessage.contains("revoke it first"))
            try await collector.agents.revoke("ws-1", by: adminActor)
            let taken = try await api.send(.post, "/api/v1/agents/enrol", json: enrolBody(code: second))
            #expect(taken.status == 409 && taken.errorMessage.contains("allow-reenrolment"), "\(taken.json)")
            try await collector.agents.allowReenrolment("ws-1", by: adminActor)
            let reenrolled = try await api.send(.post, "/api/v1/agents/enrol", json: enrolBody(code: second))
            #expect(reenrolled.status == 201, "a 409 spent nothing: the same code works once allowed")
            let history = try await collector.agents.keyHistory()["ws-1"] ?? []
            #expect(history.count >= 1, "the key history is kept")
            let actions = try await AuditLog.entries(limit: 50, in: collector.catalog.sql).map(\.action)
            #expect(actions.contains("agent.allow_reenrolment") && actions.contains("agent.reenrol"))
            api.token = token
            #expect(try await api.send(.get, "/api/v1/agent/config").status == 401, "the old token stays dead")
        }
    }

    /// Time runs out: an enrolment code past its expiry and an admin session past its lifetime are
    /// refused with a message that says so, and the code stays unspent.
    @Test(arguments: Backend.allCases)
    func expiredCodesAndSessionsAreRefused(_ backend: Backend) async throws {
        try await withAPI(backend) { api, collector, password in
            try await api.logIn(password)
            let code = try #require(
                try await api.send(.post, "/api/v1/admin/enrolment-codes", json: #"{"node_path":"/emea"}"#).json["code"]
                    as? String)
            let past = "2020-01-01T00:00:00.000Z"
            try await collector.catalog.sql.raw("UPDATE enrolment_codes SET expires_at = \(bind: past)").run()
            try await collector.catalog.sql.raw("UPDATE sessions SET expires_at = \(bind: past)").run()

            let admin = try await api.send(.get, "/api/v1/admin/node-paths")
            #expect(admin.status == 401, "an expired session is no session: \(admin.json)")
            api.token = nil
            let late = try await api.send(.post, "/api/v1/agents/enrol", json: enrolBody(code: code))
            #expect(late.status == 401 && late.errorMessage.contains("has expired"), "\(late.json)")
            #expect(try await collector.agents.list().isEmpty)
        }
    }

    /// On a target whose agents must use their own accounts, an agent without one is not enrolled and
    /// its code stays valid; its account can be set before it enrols; and an account made for another
    /// auth kind than the target's now is refused rather than sent.
    @Test func enrolmentOnAnOwnAccountTargetWaitsForTheAccountAndSpendsNothing() async throws {
        try await withAPI { api, collector, password in
            try await api.logIn(password)
            let target = try await api.send(
                .post, "/api/v1/admin/storage-targets",
                json: #"{"name":"site-dav","kind":"webdav","url":"https://dav.site.example/r","auth":"digest","username":"collector","password":"c-pass","agent_credentials":"own"}"#)
            #expect(target.status == 201, "\(target.json)")
            #expect(try await api.send(.post, "/api/v1/admin/node-paths", json: #"{"path":"/site","storage":"site-dav"}"#).status == 201)
            let made = try await api.send(.post, "/api/v1/admin/enrolment-codes", json: #"{"node_path":"/site"}"#)
            let code = try #require(made.json["code"] as? String)
            let adminToken = api.token
            api.token = nil
            let refused = try await api.send(.post, "/api/v1/agents/enrol", json: enrolBody(code: code, agentId: "ws-own"))
            #expect(refused.status == 409 && refused.errorMessage.contains("storage-credentials set ws-own site-dav"), "\(refused.json)")
            #expect(try await collector.agents.list().isEmpty, "nobody was enrolled")

            api.token = adminToken
            let set = try await api.send(
                .put, "/api/v1/admin/agents/ws-own/storage-credentials/site-dav",
                json: #"{"username":"ws-own","password":"own-pass"}"#)
            #expect(set.status == 200, "credentials for an agent id not enrolled yet: \(set.json)")
            let controls = try await api.send(
                .put, "/api/v1/admin/agents/ws-own/storage-credentials/site-dav",
                json: #"{"username":"ws-own","password":"a\r\nX-Injected: 1"}"#)
            #expect(controls.status == 400, "\(controls.json)")
            api.token = nil
            let enrolled = try await api.send(.post, "/api/v1/agents/enrol", json: enrolBody(code: code, agentId: "ws-own"))
            #expect(enrolled.status == 201, "the same code still works: \(enrolled.json)")
            let storage = (enrolled.json["configuration"] as? [String: Any])?["storage"] as? [String: Any]
            #expect(storage?["username"] as? String == "ws-own" && storage?["password"] as? String == "own-pass")
            let agentToken = try #require(enrolled.json["agent_token"] as? String)

            api.token = adminToken
            let switched = try await api.send(
                .put, "/api/v1/admin/storage-targets/site-dav", json: #"{"auth":"bearer","bearer_token":"shared-token"}"#)
            #expect(switched.status == 200, "\(switched.json)")
            api.token = agentToken
            let stale = try await api.send(.get, "/api/v1/agent/config")
            #expect(stale.status == 409 && stale.errorMessage.contains("made for auth digest"), "\(stale.json)")
        }
    }

    /// Agent ids name folders: one differing from an enrolled id only in case is refused (a case-blind
    /// file system would give both one folder; a person reads them as one).
    @Test func anAgentIdDifferingOnlyInCaseIsRefused() async throws {
        let collector = try await makeCollector(.sqlite)
        do {
            _ = try await SimulatedAgent(id: "ws-twin", nodePath: "/").enrol(with: collector, actor: adminActor)
            await #expect(throws: CollectorError.self) {
                _ = try await SimulatedAgent(id: "WS-Twin", nodePath: "/").enrol(with: collector, actor: adminActor)
            }
        } catch {
            await collector.close()
            throw error
        }
        await collector.close()
    }
}
