import CollectorCore
import Foundation
import RecorderCore
import TestSupport
import TestTraits
import Testing

/// A blind transfer between two agents' softphones leaves two calls in the catalog (each workstation
/// reports its own, under its own Call-ID); the timeline joins them into one view whichever is opened:
/// both agents' screens, each during its own leg, on one clock although ws-b's runs five minutes fast.
/// A customer who hangs up and calls again, or another caller, is never joined.
@Suite(.serialized, .realTime)
struct SoftphoneTransferTests {
    static let now = CallEvent.parseTime("2026-12-01T11:00:00Z")!

    /// A softphone's call as its agent reports it; times on the workstation's clock.
    static func report(
        _ collector: Collector, workstation: String, call: String, from: String, to: String?, reason: String?,
        party: String = "customer", direction: String = "inbound"
    ) async throws {
        let (ani, dnis) = direction == "inbound" ? (party, workstation) : (workstation, party)
        var events = [
            #"{"event_id":"baresip/\#(call)/established","type":"leg.started","occurred_at":"2026-12-01T\#(from)Z","interaction_id":"\#(call)","leg_id":"\#(call)","agent_id":"sip:\#(workstation)@pbx","direction":"\#(direction)","ani":"\#(ani)","dnis":"\#(dnis)"}"#
        ]
        if let to {
            let why = reason.map { #","reason":"\#($0)""# } ?? ""
            events.append(
                #"{"event_id":"baresip/\#(call)/closed","type":"leg.ended","occurred_at":"2026-12-01T\#(to)Z","interaction_id":"\#(call)","leg_id":"\#(call)"\#(why)}"#
            )
        }
        _ = try await collector.callEvents.accept(
            Data(#"{"events":[\#(events.joined(separator: ","))]}"#.utf8), from: Integrations.workstation(workstation),
            source: "test", routed: false)
    }

    /// Heartbeats that measured each workstation's clock (its offset in seconds) around the calls.
    static func measureClocks(_ collector: Collector, _ offsets: [String: Double]) async throws {
        for (agent, offset) in offsets.sorted(by: { $0.key < $1.key }) {
            for minute in [58, 59, 60, 63] {
                let received = CallEvent.parseTime("2026-12-01T09:00:00Z")!.addingTimeInterval(Double(minute) * 60)
                _ = try await collector.heartbeats.record(
                    AgentHeartbeat(
                        sentAt: received.addingTimeInterval(offset - 0.01), roundTripMs: 20, state: .recording,
                        spoolSegments: 0, spoolBytes: 0, lastError: nil, lastErrorAt: nil),
                    agentId: agent, receivedAt: received)
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func aBlindTransferBetweenSoftphonesIsOneViewFromEitherEnd(_ backend: Backend) async throws {
        try await withCollector(backend) { collector in
            // ws-b's clock runs five minutes fast: its first segment, stamped 10:06:00, began at 10:01:00.
            let a = SimulatedAgent(id: "ws-a", nodePath: "/", epoch: CallEvent.parseTime("2026-12-01T09:59:00Z")!)
            let b = SimulatedAgent(id: "ws-b", nodePath: "/", epoch: CallEvent.parseTime("2026-12-01T10:05:00Z")!)
            for agent in [a, b] { _ = try await agent.enrol(with: collector, actor: adminActor) }
            try await Self.measureClocks(collector, ["ws-a": 0, "ws-b": 300])
            try await Self.report(
                collector, workstation: "ws-a", call: "sip-a", from: "10:00:00.000", to: "10:01:00.000", reason: "Call transfered")
            try await Self.report(collector, workstation: "ws-b", call: "sip-b", from: "10:06:00.800", to: "10:08:00.000", reason: nil)
            for (agent, call, length) in [(a, "sip-a", 60_000), (b, "sip-b", 119_000)] {
                let segment = try agent.nextSegment(callId: call) { manifest in
                    manifest.legs = [CallLeg(interactionId: call, legId: call)]
                    manifest.durationMs = length
                }
                try agent.upload(segment, to: collector)
                _ = try await collector.acceptManifest(segment.manifestBytes, from: try await collector.agents.get(agent.id), source: "test")
            }

            let fromA = try #require(try await collector.timeline("sip-a", now: Self.now))
            let fromB = try #require(try await collector.timeline("sip-b", now: Self.now))
            #expect(fromA.calls.map(\.interactionId) == ["sip-a", "sip-b"], "\(fromA.calls)")
            #expect(fromA.calls.map(\.match.method) == ["self", "transfer-time"])
            #expect(fromA.calls[1].match.confidence == 1, "joined 0.8 s after the transfer")
            var same = fromB
            same.interactionId = fromA.interactionId
            same.integration = fromA.integration
            #expect(same == fromA, "the same view from either call")

            #expect(fromA.legs.map(\.legId) == ["sip-a", "sip-b"])
            #expect(fromA.legs.map(\.fromMs) == [0, 60_800], "ws-b's five fast minutes taken off its leg")
            #expect(fromA.legs[1].previousLegId == "sip-a" && fromA.legs[1].interactionId == "sip-b")
            #expect(fromA.bands.contains { $0.kind == "transfer" && $0.fromMs == 60_000 && $0.detail == "sip-b" }, "\(fromA.bands)")
            #expect(fromA.endedAt == "2026-12-01T10:03:00.000Z" && fromA.durationMs == 180_000)
            // Each agent's screen during its own leg, on the collector's clock.
            let screens = fromA.screen.map { ($0.agentId, $0.offsetMs) }
            #expect(screens.count == 2 && screens[0] == ("ws-a", 0) && screens[1] == ("ws-b", 60_000), "\(screens)")
            #expect(fromA.participants.map(\.workstation) == ["ws-a", "ws-b"])
            #expect(!fromA.bands.contains { $0.kind == "no_screen" && $0.legId == "sip-a" }, "\(fromA.bands)")

            // The job stores the view under both calls, and settles (no call keeps handing the other back).
            let job = CorrelationJob(collector: collector)
            var rounds = 0
            while try await job.waiting() > 0, rounds < 10 {
                _ = try await job.runOnce(now: Date())
                rounds += 1
            }
            #expect(try await job.waiting() == 0, "the queue drains")
            for call in ["sip-a", "sip-b"] {
                let links = try await job.links(integration: "workstation:\(call == "sip-a" ? "ws-a" : "ws-b")", interaction: call)
                #expect(links.filter { $0.kind == "screen" }.map(\.id) == ["ws-a/1", "ws-b/1"], "\(call): \(links)")
            }
        }
    }

    /// Paris transferred to Lyon: Lyon's supervisor opens Lyon's call and sees the view with Lyon's
    /// screen and voice only; Paris's call, opened by id, is not theirs at all.
    @Test func aTransferredViewShowsEachSiteOnlyItsOwnRecordings() async throws {
        try await withCollector(.sqlite) { collector in
            let paris = SimulatedAgent(id: "ws-a", nodePath: "/emea/paris", epoch: CallEvent.parseTime("2026-12-01T09:59:00Z")!)
            let lyon = SimulatedAgent(id: "ws-b", nodePath: "/emea/lyon", epoch: CallEvent.parseTime("2026-12-01T10:00:00Z")!)
            for agent in [paris, lyon] { _ = try await agent.enrol(with: collector, actor: adminActor) }
            try await Self.measureClocks(collector, ["ws-a": 0, "ws-b": 0])
            try await Self.report(collector, workstation: "ws-a", call: "sip-a", from: "10:00:00", to: "10:01:00", reason: "Call transfered")
            try await Self.report(collector, workstation: "ws-b", call: "sip-b", from: "10:01:01", to: "10:02:00", reason: nil)
            for (agent, call) in [(paris, "sip-a"), (lyon, "sip-b")] {
                let segment = try agent.nextSegment(callId: call) { $0.legs = [CallLeg(interactionId: call, legId: call)] }
                try agent.upload(segment, to: collector)
                _ = try await collector.acceptManifest(segment.manifestBytes, from: try await collector.agents.get(agent.id), source: "test")
                _ = try await collector.ingestVoice(
                    try TimelineTests.speech(), contentType: "audio/wav",
                    metadata: VoiceMetadata(interactionId: call, legId: call, startedAt: "2026-12-01T10:0\(call == "sip-a" ? 0 : 1):01.000Z"),
                    integration: "workstation:\(agent.id)", deliveredBy: "import")
            }
            let user = try await collector.users.create(
                username: "sup-lyon", password: "correct horse battery", profile: .init(role: .supervisor, scopes: ["/emea/lyon"]),
                by: adminActor)
            let access = Access(user)
            #expect(try await collector.timeline("sip-a", for: access, now: Self.now) == nil, "Paris's call is not Lyon's")
            let view = try #require(try await collector.timeline("sip-b", for: access, now: Self.now))
            #expect(view.calls.count == 2 && view.legs.count == 2, "the whole transfer, who and when")
            #expect(view.screen.map(\.agentId) == ["ws-b"], "\(view.screen.map(\.agentId))")
            #expect(view.voice.map(\.legId) == ["sip-b"], "Lyon's voice only: \(view.voice.map(\.legId))")
            let whole = try #require(try await collector.timeline("sip-b", now: Self.now))
            #expect(whole.voice.count == 2 && whole.screen.count == 2, "an admin sees both sites")
        }
    }

    @Test func onlyATransferToTheSameCallerShortlyAfterIsJoined() async throws {
        try await withCollector(.sqlite) { collector in
            try await Self.measureClocks(collector, ["ws-a": 0, "ws-b": 0, "ws-c": 0, "ws-d": 0])
            // Hung up, then called again at once: two calls, not a transfer.
            try await Self.report(collector, workstation: "ws-a", call: "hangup", from: "10:00:00", to: "10:01:00", reason: "Connection reset by user")
            try await Self.report(collector, workstation: "ws-b", call: "again", from: "10:01:05", to: "10:02:00", reason: nil)
            #expect(try await collector.timeline("hangup", now: Self.now)?.calls.count == 1)
            #expect(try await collector.timeline("again", now: Self.now)?.calls.count == 1)

            // Transferred, but the next call at another desk is another caller, or comes too late.
            try await Self.report(
                collector, workstation: "ws-a", call: "moved", from: "10:10:00", to: "10:11:00", reason: "Call transfered", party: "alice")
            try await Self.report(collector, workstation: "ws-b", call: "bob", from: "10:11:01", to: "10:12:00", reason: nil, party: "bob")
            try await Self.report(collector, workstation: "ws-c", call: "late", from: "10:12:30", to: "10:13:00", reason: nil, party: "alice")
            #expect(try await collector.timeline("moved", now: Self.now)?.calls.count == 1)

            // Two desks took a call from the transferred caller: the closest in time is the transfer.
            try await Self.report(
                collector, workstation: "ws-a", call: "first", from: "10:20:00", to: "10:21:00", reason: "Call transfered", party: "carol")
            try await Self.report(collector, workstation: "ws-c", call: "near", from: "10:21:01", to: "10:22:00", reason: nil, party: "carol")
            try await Self.report(collector, workstation: "ws-d", call: "far", from: "10:21:20", to: "10:22:00", reason: nil, party: "carol")
            #expect(try await collector.timeline("first", now: Self.now)?.calls.map(\.interactionId) == ["first", "near"])
            #expect(try await collector.timeline("far", now: Self.now)?.calls.count == 1)

            // Outbound: the agent called the customer, who was then passed on to ws-b; and a chain of three.
            try await Self.report(
                collector, workstation: "ws-a", call: "out", from: "10:30:00", to: "10:31:00", reason: "Call transfered",
                party: "dave", direction: "outbound")
            try await Self.report(
                collector, workstation: "ws-b", call: "second", from: "10:31:00.500", to: "10:32:00", reason: "Call transfered", party: "dave")
            try await Self.report(collector, workstation: "ws-c", call: "third", from: "10:32:02", to: nil, reason: nil, party: "dave")
            let chain = try #require(try await collector.timeline("second", now: Self.now))
            #expect(chain.calls.map(\.interactionId) == ["out", "second", "third"])
            #expect(chain.endedAt == nil, "the view lasts while its last call does")
            #expect(chain.calls[2].match.confidence < 1 && chain.calls[2].match.confidence > 0.9, "\(chain.calls)")
        }
    }
}
