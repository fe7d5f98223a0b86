import CollectorCore
import Foundation
import HummingbirdTesting
import NIOCore
import RecorderCore
import TestSupport
import TestTraits
import Testing

/// The call catalog through the API on both databases: calls with their legs and segments per leg,
/// one call's events and segments, the long poll that answers as soon as an event is routed, and the
/// resynchronisation an agent asks for after a reconnect.
@Suite(.serialized, .realTime)
struct CallCatalogTests {
    static func event(
        at minute: String = "2026-12-01T10:00", _ id: String, _ type: String, second: Int, call: String = "call-1",
        leg: String = "leg-1", agent: String = "agent-7", extra: String = ""
    ) -> String {
        #"{"event_id":"\#(id)","type":"\#(type)","occurred_at":"\#(minute):\#(String(format: "%02d", second))Z","interaction_id":"\#(call)","leg_id":"\#(leg)","agent_id":"\#(agent)"\#(extra)}"#
    }

    /// An integration `pbx` whose agent-7 sits at ws-a and agent-8 at ws-b; returns the integration's
    /// and both agents' tokens.
    static func setUp(_ api: Session, _ collector: Collector, _ password: String) async throws
        -> (pbx: String, a: SimulatedAgent, aToken: String, bToken: String)
    {
        try await api.logIn(password)
        // Its first segment starts at 10:00:00, the second at 10:01:00, like the calls below.
        let a = SimulatedAgent(id: "ws-a", nodePath: "/", epoch: CallEvent.parseTime("2026-12-01T09:59:00Z")!)
        let aToken = try await a.enrol(with: collector, actor: adminActor)
        let bToken = try await SimulatedAgent(id: "ws-b", nodePath: "/").enrol(with: collector, actor: adminActor)
        let pbx = try #require(
            try await api.send(.post, "/api/v1/admin/integrations", json: #"{"name":"pbx"}"#).json["token"] as? String)
        for (external, workstation) in [("agent-7", "ws-a"), ("agent-8", "ws-b")] {
            let mapped = try await api.send(
                .post, "/api/v1/admin/agent-identities",
                json: #"{"integration":"pbx","external_id":"\#(external)","agent_id":"\#(workstation)"}"#)
            #expect(mapped.status == 200, "\(mapped.json)")
        }
        return (pbx, a, aToken, bToken)
    }

    /// A minute five minutes ago, for the tests of what is active now (a leg older than 12 h no longer is).
    static let recent: String = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm"
        return formatter.string(from: Date().addingTimeInterval(-300))
    }()

    static func post(_ api: Session, _ token: String, _ events: [String]) async throws -> Reply {
        let saved = api.token
        api.token = token
        defer { api.token = saved }
        return try await api.send(.post, "/api/v1/cti/events", json: #"{"events":[\#(events.joined(separator: ","))]}"#)
    }

    @Test(arguments: Backend.allCases)
    func callsAreListedWithTheirLegsAndSegments(_ backend: Backend) async throws {
        try await withAPI(backend) { api, collector, password in
            let (pbx, agent, aToken, _) = try await Self.setUp(api, collector, password)
            // A transfer from agent-7 (ws-a) to agent-8 (ws-b), the first leg held for ten seconds.
            let posted = try await Self.post(
                api, pbx,
                [
                    Self.event("e1", "leg.started", second: 0, extra: #","direction":"inbound","ani":"+33123","queue":"sales""#),
                    Self.event("e2", "leg.held", second: 10),
                    Self.event("e3", "leg.resumed", second: 20),
                    Self.event("e4", "leg.transferred", second: 30, extra: #","related_leg_id":"leg-2""#),
                    Self.event("e5", "leg.started", second: 31, leg: "leg-2", agent: "agent-8", extra: #","related_leg_id":"leg-1""#),
                    Self.event("e6", "leg.ended", second: 32),
                    Self.event("e7", "leg.started", second: 40, call: "call-2", leg: "leg-9"),
                ])
            #expect(posted.status == 200 && posted.json["accepted"] as? Int == 7, "\(posted.json)")

            // ws-a's segment of leg-1, with the hold inside it, as the agent's manifest says.
            let leg = CallLeg(interactionId: "call-1", legId: "leg-1")
            let segment = try agent.nextSegment(callId: "call-1") { manifest in
                manifest.legs = [leg]
                // The end written in another zone: instants are compared, not text.
                manifest.holds = [HoldInterval(leg: leg, from: "2026-12-01T10:00:10.000Z", to: "2026-12-01T12:00:20+02:00")]
            }
            try agent.upload(segment, to: collector)
            let saved = api.token
            api.token = aToken
            let intake = try await api.send(.post, "/api/v1/agent/manifests", raw: ByteBuffer(data: segment.manifestBytes))
            #expect(intake.status == 201, "\(intake.json)")
            // A hold of a leg the segment does not name is refused, naming it.
            let stray = try agent.nextSegment(callId: "call-1") { manifest in
                manifest.legs = [leg]
                manifest.holds = [HoldInterval(leg: CallLeg(interactionId: "call-1", legId: "leg-x"), from: "2026-12-01T10:00:10.000Z", to: "2026-12-01T10:00:20.000Z")]
            }
            let refused = try await api.send(.post, "/api/v1/agent/manifests", raw: ByteBuffer(data: stray.manifestBytes))
            #expect(refused.status == 400 && refused.errorMessage.contains("leg-x"), "\(refused.json)")
            // A hold a millisecond past its segment's end (rounding at a cut) is catalogued: a refusal would
            // block every later upload of the agent.
            let edge = try agent.nextSegment(callId: "call-1") { manifest in
                manifest.legs = [leg]
                manifest.holds = [HoldInterval(leg: leg, from: manifest.firstFrameTime, to: manifest.lastFrameTime.replacingOccurrences(of: ":59.000Z", with: ":59.001Z"))]
            }
            try agent.upload(edge, to: collector)
            let atEdge = try await api.send(.post, "/api/v1/agent/manifests", raw: ByteBuffer(data: edge.manifestBytes))
            #expect(atEdge.status == 201, "\(atEdge.json)")
            api.token = saved

            let listed = try await api.send(.get, "/api/v1/calls")
            let calls = listed.json["items"] as? [[String: Any]] ?? []
            #expect(calls.compactMap { $0["interaction_id"] as? String } == ["call-2", "call-1"], "newest first: \(listed.json)")
            let call = try #require(calls.last)
            #expect(call["state"] as? String == "active" && call["ani"] as? String == "+33123" && call["segments"] as? Int == 2)
            let legs = call["legs"] as? [[String: Any]] ?? []
            #expect(legs.compactMap { $0["workstation"] as? String } == ["ws-a", "ws-b"])
            #expect(legs.compactMap { $0["segments"] as? Int } == [2, 0])
            #expect((legs.first?["holds"] as? [[String: Any]])?.first?["to"] as? String == "2026-12-01T10:00:20.000Z")
            #expect(legs.last?["previous_leg_id"] as? String == "leg-1")

            for (query, expected) in [
                ("workstation=ws-b", ["call-1"]), ("agent=agent-7", ["call-2", "call-1"]),
                ("from=2026-12-01T11:00:35%2B01:00", ["call-2"]), ("to=2026-12-01T10:00:35Z", ["call-1"]),
                ("state=ended", []), ("limit=1", ["call-2"]),
            ] {
                let reply = try await api.send(.get, "/api/v1/calls?\(query)")
                let ids = (reply.json["items"] as? [[String: Any]] ?? []).compactMap { $0["interaction_id"] as? String }
                #expect(ids == expected, "\(query): \(reply.json)")
            }
            for (query, message) in [
                ("state=maybe", "state is active or ended"), ("from=yesterday", "from must be an RFC 3339 time"),
                ("limit=0", "limit must be a whole number from 1 to 1000"),
            ] {
                let reply = try await api.send(.get, "/api/v1/calls?\(query)")
                #expect(reply.status == 400 && reply.errorMessage.contains(message), "\(query): \(reply.json)")
            }

            let detail = try await api.send(.get, "/api/v1/calls/call-1")
            #expect((detail.json["events"] as? [Any])?.count == 6, "\(detail.json)")
            #expect((detail.json["segments"] as? [Any])?.count == 2)
            #expect(try await api.send(.get, "/api/v1/calls/nope").status == 404)
            api.token = nil
            #expect(try await api.send(.get, "/api/v1/calls").status == 401)
        }
    }

    @Test(arguments: Backend.allCases)
    func aWaitingAgentIsAnsweredWhenItsEventArrivesAndResynchronisesAfterAnOutage(_ backend: Backend) async throws {
        try await withAPI(backend) { api, collector, password in
            let (pbx, _, aToken, bToken) = try await Self.setUp(api, collector, password)
            api.token = aToken
            // Nothing yet: a wait of 0 answers at once, empty.
            #expect((try await api.send(.get, "/api/v1/agent/call-events?wait=0").json["items"] as? [Any])?.isEmpty == true)
            let refused = try await api.send(.get, "/api/v1/agent/call-events?wait=26")
            #expect(refused.status == 400 && refused.errorMessage.contains("wait must be a whole number from 0 to 25"))

            // ws-a waits; an event for ws-b does not answer it, one for ws-a does.
            let waiting = Task { [api] () -> [String] in
                let reply = try await api.send(.get, "/api/v1/agent/call-events?after=0&wait=20")
                return (reply.json["items"] as? [[String: Any]] ?? []).compactMap {
                    ($0["event"] as? [String: Any])?["event_id"] as? String
                }
            }
            while collector.deliverySignals.waiting == 0 { try await Task.sleep(for: .milliseconds(10)) }
            _ = try await Self.post(api, pbx, [Self.event(at: Self.recent, "b1", "leg.started", second: 0, call: "call-b", leg: "leg-b", agent: "agent-8")])
            try await Task.sleep(for: .milliseconds(200))
            #expect(collector.deliverySignals.waiting == 1, "ws-b's event did not wake ws-a")
            _ = try await Self.post(api, pbx, [Self.event(at: Self.recent, "a1", "leg.started", second: 1)])
            #expect(try await waiting.value == ["a1"])
            #expect(collector.deliverySignals.waiting == 0)

            // While ws-a was away: call-1 was held and ended, call-3 started and was held.
            _ = try await Self.post(
                api, pbx,
                [
                    Self.event(at: Self.recent, "a2", "leg.held", second: 2), Self.event(at: Self.recent, "a3", "leg.ended", second: 3),
                    Self.event(at: Self.recent, "a4", "leg.started", second: 4, call: "call-3", leg: "leg-3"),
                    Self.event(at: Self.recent, "a5", "leg.held", second: 5, call: "call-3", leg: "leg-3"),
                    Self.event(at: Self.recent, "a6", "recording.paused", second: 6, call: "call-3", leg: "leg-3"),
                ])
            let resync = try await api.send(.get, "/api/v1/agent/calls/active")
            #expect(resync.status == 200, "\(resync.json)")
            let active = (resync.json["active_legs"] as? [[String: Any]] ?? []).compactMap { $0["leg_id"] as? String }
            #expect(active == ["leg-3"], "\(resync.json)")
            let replay = (resync.json["events"] as? [[String: Any]] ?? []).compactMap {
                ($0["event"] as? [String: Any])?["event_id"] as? String
            }
            #expect(replay == ["a4", "a5", "a6"], "the active call's events, oldest first: \(resync.json)")
            let cursor = try #require(resync.json["cursor"] as? Int)
            let after = try await api.send(.get, "/api/v1/agent/call-events?after=\(cursor)")
            #expect((after.json["items"] as? [Any])?.isEmpty == true, "nothing after the resync's cursor")
            api.token = bToken
            let other = try await api.send(.get, "/api/v1/agent/calls/active")
            #expect((other.json["active_legs"] as? [[String: Any]])?.compactMap { $0["leg_id"] as? String } == ["leg-b"])
            api.token = nil
            #expect(try await api.send(.get, "/api/v1/agent/calls/active").status == 401)
        }
    }

    /// A workstation's softphone calls, as its agent reports them: catalogued at that workstation, kept
    /// apart from every other workstation's (event ids of two agents never meet), and delivered to nobody,
    /// not even back to the agent that saw them.
    @Test(arguments: Backend.allCases)
    func aWorkstationsOwnEventsAreCataloguedAtItAndDeliveredToNobody(_ backend: Backend) async throws {
        try await withAPI(backend) { api, collector, password in
            let (_, _, aToken, bToken) = try await Self.setUp(api, collector, password)
            let adminToken = api.token
            let softphone = [
                Self.event("baresip/sip-1/established", "leg.started", second: 0, call: "sip-1", leg: "sip-1", agent: "sip:a@pbx"),
                Self.event("baresip/sip-1/hold/1", "leg.held", second: 5, call: "sip-1", leg: "sip-1", agent: "sip:a@pbx"),
                Self.event("baresip/sip-1/closed", "leg.ended", second: 9, call: "sip-1", leg: "sip-1", agent: "sip:a@pbx"),
            ]
            func report(_ token: String?, _ events: [String]) async throws -> Reply {
                api.token = token
                defer { api.token = adminToken }
                return try await api.send(.post, "/api/v1/agent/call-events", json: #"{"events":[\#(events.joined(separator: ","))]}"#)
            }
            let reported = try await report(aToken, softphone)
            #expect(reported.status == 200 && reported.json["accepted"] as? Int == 3, "\(reported.json)")
            #expect(try await report(aToken, softphone).json["duplicates"] as? Int == 3, "a retry changes nothing")
            // ws-b's softphone saw the same Call-ID (an internal call): its own call, not a repeat of ws-a's.
            #expect(try await report(bToken, [softphone[0]]).json["accepted"] as? Int == 1)

            let detail = try await api.send(.get, "/api/v1/calls/sip-1?integration=workstation:ws-a")
            let call = detail.json["call"] as? [String: Any] ?? [:]
            let legs = call["legs"] as? [[String: Any]] ?? []
            #expect(call["state"] as? String == "ended" && legs.first?["workstation"] as? String == "ws-a", "\(detail.json)")
            #expect((legs.first?["holds"] as? [Any])?.count == 1)
            let listed = try await api.send(.get, "/api/v1/calls?workstation=ws-b")
            #expect((listed.json["items"] as? [[String: Any]])?.first?["integration"] as? String == "workstation:ws-b")

            api.token = aToken
            #expect((try await api.send(.get, "/api/v1/agent/call-events?wait=0").json["items"] as? [Any])?.isEmpty == true)
            api.token = bToken
            let resync = try await api.send(.get, "/api/v1/agent/calls/active")
            #expect((resync.json["active_legs"] as? [Any])?.isEmpty == true, "never replayed to the agent: \(resync.json)")
            api.token = adminToken

            let bad = try await report(aToken, [Self.event("x", "leg.started", second: 0, call: "", leg: "l")])
            #expect(bad.status == 400 && bad.errorMessage.contains("interaction_id"), "\(bad.json)")
            #expect(try await report(nil, softphone).status == 401)
            let admin = try await report(adminToken, softphone)
            #expect(admin.status == 401, "an admin's session is not an agent's token")
        }
    }

    /// From an outsider's attack: one feed cannot end another's call, a workstation with many stale
    /// legs still keeps its live one, an agent holds at most two long polls, a person who moves desks
    /// mid-call leaves the call's events where it is recorded, and a feed in a loop is stopped.
    @Test(arguments: Backend.allCases)
    func feedsAndAgentsCannotDisturbOneAnother(_ backend: Backend) async throws {
        try await withAPI(backend) { api, collector, password in
            let (pbx, _, aToken, bToken) = try await Self.setUp(api, collector, password)
            let other = try #require(
                try await api.send(.post, "/api/v1/admin/integrations", json: #"{"name":"pbx2"}"#).json["token"] as? String)
            #expect(try await Self.post(api, pbx, [Self.event(at: Self.recent, "s1", "leg.started", second: 0)]).status == 200)
            // pbx2 uses the same interaction and leg ids: its end is its own call's, not pbx's.
            let foreign = try await Self.post(
                api, other, [#"{"event_id":"x1","type":"leg.ended","occurred_at":"\#(Self.recent):59Z","interaction_id":"call-1","leg_id":"leg-1"}"#])
            #expect(foreign.status == 200)
            let ambiguous = try await api.send(.get, "/api/v1/calls/call-1")
            #expect(ambiguous.status == 409 && ambiguous.errorMessage.contains("pbx, pbx2"), "\(ambiguous.json)")
            let mine = try await api.send(.get, "/api/v1/calls/call-1?integration=pbx")
            #expect((mine.json["call"] as? [String: Any])?["state"] as? String == "active", "\(mine.json)")
            api.token = aToken
            let active = try await api.send(.get, "/api/v1/agent/calls/active")
            #expect((active.json["active_legs"] as? [[String: Any]])?.compactMap { $0["leg_id"] as? String } == ["leg-1"], "\(active.json)")

            // The person moves to ws-b mid-call: the call's end still goes to ws-a, which records it.
            api.token = nil
            try await api.logIn(password)
            _ = try await api.send(
                .post, "/api/v1/admin/agent-identities", json: #"{"integration":"pbx","external_id":"agent-7","agent_id":"ws-b"}"#)
            let end = try await Self.post(
                api, pbx, [#"{"event_id":"s2","type":"leg.ended","occurred_at":"\#(Self.recent):09Z","interaction_id":"call-1","leg_id":"leg-1"}"#])
            #expect(end.json["unrouted"] as? Int == 0, "\(end.json)")
            api.token = aToken
            let delivered = try await api.send(.get, "/api/v1/agent/call-events?after=0")
            #expect((delivered.json["items"] as? [[String: Any]])?.compactMap { ($0["event"] as? [String: Any])?["event_id"] as? String } == ["s1", "s2"])

            // 101 legs whose ends were lost: the answer says it is cut short, the newest first.
            let stale = (0..<101).map { Self.event(at: Self.recent, "z\($0)", "leg.started", second: $0 % 60, call: "stale-\($0)", leg: "z", agent: "agent-8") }
            #expect(try await Self.post(api, pbx, Array(stale.prefix(100))).status == 200)
            #expect(try await Self.post(api, pbx, [Self.event(at: Self.recent, "live", "leg.started", second: 59, call: "live", leg: "l", agent: "agent-8")]).status == 200)
            api.token = bToken
            let crowded = try await api.send(.get, "/api/v1/agent/calls/active")
            #expect(crowded.json["truncated"] as? Bool == true)
            #expect((crowded.json["active_legs"] as? [[String: Any]])?.count == 100)
            #expect((crowded.json["active_legs"] as? [[String: Any]])?.first?["interaction_id"] as? String == "live" || (crowded.json["active_legs"] as? [[String: Any]])?.contains { $0["interaction_id"] as? String == "live" } == true)

            // A third long poll of one agent answers the oldest at once.
            api.token = aToken
            let first = Task { [api] () -> Int in
                (try await api.send(.get, "/api/v1/agent/call-events?after=999999&wait=20").json["items"] as? [Any])?.count ?? -1
            }
            while collector.deliverySignals.waiting < 1 { try await Task.sleep(for: .milliseconds(10)) }
            let second = Task { [api] in _ = try await api.send(.get, "/api/v1/agent/call-events?after=999999&wait=3") }
            while collector.deliverySignals.waiting < 2 { try await Task.sleep(for: .milliseconds(10)) }
            let third = Task { [api] in _ = try await api.send(.get, "/api/v1/agent/call-events?after=999999&wait=3") }
            #expect(try await first.value == 0, "released with nothing")
            #expect(collector.deliverySignals.waiting <= 2)
            _ = try await (second.value, third.value)

            // A feed repeating itself under new ids is stopped at 2 000 events for one call.
            for round in 0..<4 {
                let loop = (0..<500).map { Self.event(at: Self.recent, "loop-\(round)-\($0)", "leg.held", second: 1, call: "looping") }
                #expect(try await Self.post(api, pbx, loop).status == 200)
            }
            let refused = try await Self.post(api, pbx, [Self.event(at: Self.recent, "loop-x", "leg.held", second: 1, call: "looping")])
            #expect(refused.status == 409 && refused.errorMessage.contains("at most 2000"), "\(refused.json)")

            // A valid token is honoured even after bad ones from the same address.
            api.token = nil
            for _ in 0..<40 { _ = try await Self.post(api, "rci_forged", [Self.event(at: Self.recent, "f", "leg.held", second: 1)]) }
            #expect(try await Self.post(api, pbx, [Self.event(at: Self.recent, "after-storm", "leg.held", second: 2, call: "storm")]).status == 200)

            // A revoked workstation gets nothing: its person's events are unrouted, for the admin to map again.
            try await collector.agents.revoke("ws-b", by: adminActor)
            let orphan = try await Self.post(api, pbx, [Self.event(at: Self.recent, "o1", "leg.started", second: 3, call: "orphan", leg: "o", agent: "agent-8")])
            #expect(orphan.json["unrouted"] as? Int == 1 && orphan.json["unmapped_agents"] as? [String] == ["agent-8"], "\(orphan.json)")
        }
    }
}
