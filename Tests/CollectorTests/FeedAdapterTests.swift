import CollectorCore
import Foundation
import TestSupport
import TestTraits
import Testing

/// Phone systems' own payloads, written from their public documentation, through integrations of
/// their kind: Amazon Connect contact events (EventBridge) with the agent event stream for hold, and
/// Genesys Cloud conversation snapshots; each with a hold and a transfer to another agent's desk.
@Suite(.serialized, .realTime)
struct FeedAdapterTests {
    static func integration(_ api: Session, _ name: String, kind: String, map: [(String, String)]) async throws -> String {
        let created = try await api.send(.post, "/api/v1/admin/integrations", json: #"{"name":"\#(name)","kind":"\#(kind)"}"#)
        let token = try #require(created.json["token"] as? String, "\(created.json)")
        for (external, workstation) in map {
            let mapped = try await api.send(
                .post, "/api/v1/admin/agent-identities",
                json: #"{"integration":"\#(name)","external_id":"\#(external)","agent_id":"\#(workstation)"}"#)
            #expect(mapped.status == 200, "\(mapped.json)")
        }
        return token
    }

    static func post(_ api: Session, _ token: String, _ body: String) async throws -> Reply {
        let saved = api.token
        api.token = token
        defer { api.token = saved }
        return try await api.send(.post, "/api/v1/cti/events", json: body)
    }

    static let arnA = "arn:aws:connect:eu-west-1:111122223333:instance/i-1/agent/agent-a"
    static let arnB = "arn:aws:connect:eu-west-1:111122223333:instance/i-1/agent/agent-b"

    static func contactEvent(_ id: String, _ type: String, contact: String, agent: String, extra: String = "") -> String {
        #"""
        {"version":"0","id":"\#(id)","detail-type":"Amazon Connect Contact Event","source":"aws.connect",
         "account":"111122223333","time":"2026-12-01T10:00:59Z","region":"eu-west-1","resources":[],
         "detail":{"eventType":"\#(type)","contactId":"\#(contact)","initialContactId":"c-1","channel":"VOICE",
          "instanceArn":"arn:aws:connect:eu-west-1:111122223333:instance/i-1",
          "queueInfo":{"queueArn":"arn:aws:connect:eu-west-1:111122223333:instance/i-1/queue/billing","queueType":"STANDARD"},
          "AgentInfo":{"AgentArn":"\#(agent)","connectedToAgentTimestamp":"2026-12-01T10:00:05.000Z"}\#(extra)}}
        """#
    }

    static func agentEvent(_ id: String, from previous: String, to current: String, at time: String) -> String {
        #"""
        {"AWSAccountId":"111122223333","AgentARN":"\#(arnA)","EventId":"\#(id)","EventTimestamp":"\#(time)",
         "EventType":"STATE_CHANGE","InstanceARN":"arn:aws:connect:eu-west-1:111122223333:instance/i-1","Version":"2019-05-25",
         "PreviousAgentSnapshot":{"Contacts":[{"Channel":"VOICE","ContactId":"c-1","InitialContactId":"c-1","State":"\#(previous)"}]},
         "CurrentAgentSnapshot":{"Contacts":[{"Channel":"VOICE","ContactId":"c-1","InitialContactId":"c-1","State":"\#(current)",
          "StateStartTimestamp":"\#(time)"}]}}
        """#
    }

    @Test(arguments: Backend.allCases)
    func amazonConnectContactsAndAgentEventsBecomeTheCall(_ backend: Backend) async throws {
        try await withAPI(backend) { api, collector, password in
            try await api.logIn(password)
            for id in ["ws-a", "ws-b"] { _ = try await SimulatedAgent(id: id, nodePath: "/").enrol(with: collector, actor: adminActor) }
            let token = try await Self.integration(api, "connect", kind: "amazon-connect", map: [(Self.arnA, "ws-a"), (Self.arnB, "ws-b")])

            let connected = Self.contactEvent("e-1", "CONNECTED_TO_AGENT", contact: "c-1", agent: Self.arnA, extra: #","initiationMethod":"INBOUND""#)
            let first = try await Self.post(api, token, connected)
            #expect(first.json["accepted"] as? Int == 1 && first.json["unrouted"] as? Int == 0, "\(first.json)")
            #expect(try await Self.post(api, token, connected).json["duplicates"] as? Int == 1)
            let queued = try await Self.post(api, token, Self.contactEvent("e-0", "QUEUED", contact: "c-1", agent: Self.arnA))
            #expect(queued.json["ignored"] as? Int == 1 && queued.json["accepted"] as? Int == 0, "\(queued.json)")
            // Hold is in the agent event stream, not in contact events.
            #expect(try await Self.post(api, token, Self.agentEvent("a-1", from: "CONNECTED", to: "CONNECTED_ONHOLD", at: "2026-12-01T10:00:20.000Z")).json["accepted"] as? Int == 1)
            #expect(try await Self.post(api, token, Self.agentEvent("a-2", from: "CONNECTED_ONHOLD", to: "CONNECTED", at: "2026-12-01T10:00:30.000Z")).json["accepted"] as? Int == 1)
            // A transfer: a new contact for agent B naming the one before; then A's contact disconnects.
            let transferred = Self.contactEvent(
                "e-2", "CONNECTED_TO_AGENT", contact: "c-2", agent: Self.arnB,
                extra: #","previousContactId":"c-1","initiationMethod":"TRANSFER""#
            ).replacingOccurrences(of: "10:00:05.000Z", with: "10:00:41.000Z")
            #expect(try await Self.post(api, token, transferred).json["accepted"] as? Int == 1)
            let disconnected = Self.contactEvent(
                "e-3", "DISCONNECTED", contact: "c-1", agent: Self.arnA,
                extra: #","disconnectTimestamp":"2026-12-01T10:00:40.000Z","disconnectReason":"AGENT_DISCONNECT""#)
            #expect(try await Self.post(api, token, "[\(disconnected)]").json["accepted"] as? Int == 1, "a list of events")

            let call = try await api.send(.get, "/api/v1/calls/c-1").json["call"] as? [String: Any] ?? [:]
            let legs = call["legs"] as? [[String: Any]] ?? []
            #expect(legs.compactMap { $0["leg_id"] as? String } == ["c-1", "c-2"], "\(call)")
            #expect(legs.compactMap { $0["workstation"] as? String } == ["ws-a", "ws-b"])
            #expect(legs.first?["state"] as? String == "ended" && legs.last?["previous_leg_id"] as? String == "c-1")
            let hold = (legs.first?["holds"] as? [[String: Any]])?.first
            #expect(hold?["from"] as? String == "2026-12-01T10:00:20.000Z" && hold?["to"] as? String == "2026-12-01T10:00:30.000Z")
            #expect(call["direction"] as? String == "inbound" && (call["queue"] as? String ?? "").hasSuffix("/queue/billing"))

            for (body, message) in [
                (#"{"hello":1}"#, "not an Amazon Connect contact event"),
                (#"{"id":"x","detail":{"eventType":"CONNECTED_TO_AGENT"}}"#, "detail.contactId is required"),
                (Self.contactEvent("e-9", "DISCONNECTED", contact: "c\u{202E}9", agent: Self.arnA), "maps to an invalid call event"),
            ] {
                let refused = try await Self.post(api, token, body)
                #expect(refused.status == 400 && refused.errorMessage.contains(message), "\(refused.json)")
            }
        }
    }

    static func snapshot(agentA: String, agentB: String? = nil) -> String {
        let b = agentB.map { "," + $0 } ?? ""
        return #"""
        {"topicName":"v2.users.u-a.conversations","version":"2","metadata":{"CorrelationId":"x"},
         "eventBody":{"id":"conv-1","participants":[
          {"id":"p-c","purpose":"customer","address":"tel:+33123456789","calls":[{"id":"k-c","state":"connected"}]},
          \#(agentA)\#(b)]}}
        """#
    }

    @Test(arguments: Backend.allCases)
    func genesysSnapshotsBecomeTheCallOnce(_ backend: Backend) async throws {
        try await withAPI(backend) { api, collector, password in
            try await api.logIn(password)
            for id in ["ws-a", "ws-b"] { _ = try await SimulatedAgent(id: id, nodePath: "/").enrol(with: collector, actor: adminActor) }
            let token = try await Self.integration(api, "genesys", kind: "genesys-cloud", map: [("u-a", "ws-a"), ("u-b", "ws-b")])
            func agentA(_ call: String, recording: String = "active") -> String {
                #"{"id":"p-a","purpose":"agent","userId":"u-a","queueId":"q-sales","calls":[{"id":"k-a","direction":"inbound","connectedTime":"2026-12-01T10:00:05.000Z","recordingState":"\#(recording)",\#(call)}]}"#
            }
            let steps: [(String, Int)] = [
                (Self.snapshot(agentA: agentA(#""state":"connected","held":false"#)), 1),
                (Self.snapshot(agentA: agentA(#""state":"connected","held":true,"startHoldTime":"2026-12-01T10:00:20.123456Z""#)), 1),
                (Self.snapshot(agentA: agentA(#""state":"connected","held":false"#)), 1),
                // The held snapshot again, retried late, after the resume: its hold's id, nothing new.
                (Self.snapshot(agentA: agentA(#""state":"connected","held":true,"startHoldTime":"2026-12-01T10:00:20.123456Z""#)), 0),
                (Self.snapshot(agentA: agentA(#""state":"connected","held":false"#, recording: "paused")), 1),
                (Self.snapshot(agentA: agentA(#""state":"connected","held":false"#)), 1),
                (
                    Self.snapshot(
                        agentA: agentA(#""state":"disconnected","disconnectType":"transfer","disconnectedTime":"2026-12-01T10:00:40.000Z""#),
                        agentB: #"{"id":"p-b","purpose":"agent","userId":"u-b","calls":[{"id":"k-b","state":"connected","connectedTime":"2026-12-01T10:00:41.000Z"}]}"#),
                    2
                ),
            ]
            for (index, (body, accepted)) in steps.enumerated() {
                let reply = try await Self.post(api, token, body)
                #expect(reply.json["accepted"] as? Int == accepted, "step \(index): \(reply.json)")
                // The feed sends the same snapshot again: nothing new.
                #expect(try await Self.post(api, token, body).json["accepted"] as? Int == 0, "step \(index) repeated")
            }
            let call = try await api.send(.get, "/api/v1/calls/conv-1").json["call"] as? [String: Any] ?? [:]
            let legs = call["legs"] as? [[String: Any]] ?? []
            #expect(legs.compactMap { $0["leg_id"] as? String } == ["p-a", "p-b"], "\(call)")
            #expect(legs.compactMap { $0["workstation"] as? String } == ["ws-a", "ws-b"])
            #expect(legs.last?["previous_leg_id"] as? String == "p-a")
            #expect((legs.first?["holds"] as? [[String: Any]])?.count == 1)
            #expect((legs.first?["holds"] as? [[String: Any]])?.first?["from"] as? String == "2026-12-01T10:00:20.123Z", "nanoseconds cut to ms")
            #expect((legs.first?["pauses"] as? [[String: Any]])?.first?["to"] != nil, "paused and resumed")
            #expect(call["ani"] as? String == "tel:+33123456789" && call["queue"] as? String == "q-sales")
            let refused = try await Self.post(api, token, #"{"topicName":"x","eventBody":{}}"#)
            #expect(refused.status == 400 && refused.errorMessage.contains("eventBody.id"), "\(refused.json)")
        }
    }
}
