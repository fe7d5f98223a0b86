import CollectorCore
import Foundation
import RecorderCore
import TestSupport
import TestTraits
import Testing

/// Searching calls by what QA knows of them: the caller's number (a prefix), the number dialled, the
/// queue (any of several), the direction (not outbound), the length (a bound or a range), whether
/// there is screen or voice, and every term with the others, on SQLite and PostgreSQL alike.
@Suite(.serialized, .realTime)
struct CallSearchTests {
    /// Five calls: (id, ANI, DNIS, queue, direction, length in s).
    static let calls: [(String, String, String, String, String, Int)] = [
        ("c1", "+33140000001", "3000", "billing", "inbound", 45), ("c2", "+33140000002", "3000", "sales", "inbound", 125),
        ("c3", "+44207000003", "3100", "billing", "outbound", 30), ("c4", "+3314_50", "3100", "support", "inbound", 600),
        ("c5", "+1212555000", "3000", "sales", "internal", 61),
    ]

    @Test(arguments: Backend.allCases)
    func termsFindTheCallsTheySay(_ backend: Backend) async throws {
        try await withAPI(backend) { api, collector, password in
            let (pbx, _) = try await collector.integrations.create(name: "pbx", kind: .webhook, by: adminActor)
            let agent = SimulatedAgent(id: "ws-a", nodePath: "/", epoch: CallEvent.parseTime("2026-12-01T09:59:00Z")!)
            _ = try await agent.enrol(with: collector, actor: adminActor)
            _ = try await collector.agentIdentities.set(integration: "pbx", externalId: "agent-7", agentId: "ws-a", by: adminActor)
            for (index, call) in Self.calls.enumerated() {
                let start = CallEvent.parseTime("2026-12-01T10:00:00Z")!.addingTimeInterval(Double(index) * 3600)
                let end = start.addingTimeInterval(Double(call.5))
                let events = [
                    #"{"event_id":"\#(call.0)-1","type":"leg.started","occurred_at":"\#(Timestamp.string(start))","interaction_id":"\#(call.0)","leg_id":"l","agent_id":"agent-7","ani":"\#(call.1)","dnis":"\#(call.2)","queue":"\#(call.3)","direction":"\#(call.4)"}"#,
                    #"{"event_id":"\#(call.0)-2","type":"leg.ended","occurred_at":"\#(Timestamp.string(end))","interaction_id":"\#(call.0)","leg_id":"l"}"#,
                ]
                _ = try await collector.callEvents.accept(
                    Data(#"{"events":[\#(events.joined(separator: ","))]}"#.utf8), from: pbx, source: "test")
            }
            // Screen for c1 and c2; voice for c2 and c3.
            for call in ["c1", "c2"] {
                let segment = try agent.nextSegment(callId: call) { $0.legs = [CallLeg(interactionId: call, legId: "l")] }
                try agent.upload(segment, to: collector)
                _ = try await collector.acceptManifest(segment.manifestBytes, from: try await collector.agents.get("ws-a"), source: "test")
            }
            for (call, hour) in [("c2", 11), ("c3", 12)] {
                _ = try await collector.ingestVoice(
                    try TimelineTests.speech(), contentType: "audio/wav",
                    metadata: VoiceMetadata(interactionId: call, legId: "l", startedAt: "2026-12-01T\(hour):00:00.000Z"),
                    integration: "pbx", deliveredBy: "put")
            }
            try await api.logIn(password)
            func found(_ query: String) async throws -> [String] {
                let reply = try await api.send(.get, "/api/v1/calls?\(query)")
                #expect(reply.status == 200, "\(query): \(reply.json)")
                return ((reply.json["items"] as? [[String: Any]]) ?? []).compactMap { $0["interaction_id"] as? String }.sorted()
            }
            for (query, expected) in [
                ("ani=%2B33*", ["c1", "c2", "c4"]), ("ani=%2B3314_*", ["c4"]), ("ani=%2B33140000001", ["c1"]),
                ("dnis=3100", ["c3", "c4"]), ("queue=billing,sales", ["c1", "c2", "c3", "c5"]), ("queue=!billing,sales", ["c4"]),
                ("direction=!outbound", ["c1", "c2", "c4", "c5"]), ("duration=%3E60", ["c2", "c4", "c5"]),
                ("duration=%3C=45", ["c1", "c3"]), ("duration=30..61", ["c1", "c3", "c5"]), ("duration=!30..61", ["c2", "c4"]),
                ("duration=45", ["c1"]), ("has_screen=true", ["c1", "c2"]), ("has_screen=false", ["c3", "c4", "c5"]),
                ("has_voice=true", ["c2", "c3"]), ("has_voice=true&has_screen=true", ["c2"]),
                ("ani=%2B33*&queue=billing&duration=%3E=45", ["c1"]),
            ] {
                #expect(try await found(query) == expected, "\(query)")
            }
            for (query, message) in [
                ("duration=long", "duration: give a number of seconds"), ("duration=90..30", "duration: give"),
                ("ani=", "ani: give a value"), ("has_voice=maybe", "has_voice is true or false"),
            ] {
                let reply = try await api.send(.get, "/api/v1/calls?\(query)")
                #expect(reply.status == 400 && reply.errorMessage.contains(message), "\(query): \(reply.json)")
            }
        }
    }
}
