import CollectorCore
import Foundation
import RecorderCore
import TestSupport
import TestTraits
import Testing

/// `GET /api/v1/calls/{id}/timeline`: a transferred call with a hold and a PCI pause, voice from the
/// phone system, screen from two workstations (one whose clock runs five minutes fast), on one clock;
/// golden-file tested, and the same whatever order its parts arrived in.
@Suite(.serialized, .realTime)
struct TimelineTests {
    /// The parts of the call, each delivered whole in some order.
    enum Part: CaseIterable {
        case firstLegEvents, transferEvents, voice, screenA, screenB
    }

    static func event(_ id: String, _ type: String, _ time: String, leg: String = "leg-1", extra: String = "") -> String {
        #"{"event_id":"\#(id)","type":"\#(type)","occurred_at":"2026-12-01T\#(time)Z","interaction_id":"call-1","leg_id":"\#(leg)","agent_id":"\#(leg == "leg-1" ? "agent-7" : "agent-8")"\#(extra)}"#
    }

    /// A collector with the call's parts delivered in `order`; returns the call's timeline.
    static func deliver(_ order: [Part], speech: [UInt8], backend: Backend = .sqlite) async throws -> CallTimeline {
        try await withCollector(backend) { collector in
            let (pbx, _) = try await collector.integrations.create(name: "pbx", kind: .webhook, by: adminActor)
            // ws-a's clock runs five minutes fast: its first segment, stamped 10:05:00, began at 10:00:00.
            let a = SimulatedAgent(id: "ws-a", nodePath: "/", epoch: CallEvent.parseTime("2026-12-01T10:04:00Z")!)
            let b = SimulatedAgent(id: "ws-b", nodePath: "/", epoch: CallEvent.parseTime("2026-12-01T10:00:00Z")!)
            for (agent, external) in [(a, "agent-7"), (b, "agent-8")] {
                _ = try await agent.enrol(with: collector, actor: adminActor)
                _ = try await collector.agentIdentities.set(
                    integration: "pbx", externalId: external, agentId: agent.id, by: adminActor)
            }
            // Their heartbeats measured the clocks (the first one's round trip unknown: ±1 s; then ±10 ms).
            for (agent, offset) in [("ws-a", 300.0), ("ws-b", 0.0)] {
                for (minute, roundTrip) in [(58, nil), (59, 20), (60, 20), (63, 20)] as [(Int, Int?)] {
                    let received = CallEvent.parseTime("2026-12-01T09:00:00Z")!.addingTimeInterval(Double(minute) * 60)
                    _ = try await collector.heartbeats.record(
                        AgentHeartbeat(
                            sentAt: received.addingTimeInterval(offset - Double(roundTrip ?? 0) / 2000),
                            roundTripMs: roundTrip, state: .recording, spoolSegments: 0, spoolBytes: 0, lastError: nil,
                            lastErrorAt: nil),
                        agentId: agent, receivedAt: received)
                }
            }
            let legA = CallLeg(interactionId: "call-1", legId: "leg-1")
            let legB = CallLeg(interactionId: "call-1", legId: "leg-2")
            let screenA = try a.nextSegment(callId: "call-1") { manifest in
                manifest.legs = [legA]
                manifest.durationMs = 62_000
                manifest.lastFrameTime = "2026-12-01T10:06:02.000Z"
                manifest.holds = [HoldInterval(leg: legA, from: "2026-12-01T10:05:10.000Z", to: "2026-12-01T10:05:20.000Z")]
                manifest.pauseGaps = [.init(from: "2026-12-01T10:05:30.000Z", to: "2026-12-01T10:05:40.000Z", reason: "pci")]
            }
            // ws-b records one of its monitors.
            let screenB = try b.nextSegment(callId: "call-1") { manifest in
                manifest.legs = [legB]
                manifest.durationMs = 30_000
                manifest.monitor = "DP-1"
            }
            for part in order {
                switch part {
                case .firstLegEvents:
                    let batch = [
                        event("e1", "leg.started", "10:00:00.000"), event("e2", "leg.held", "10:00:10.000"),
                        event("e3", "leg.resumed", "10:00:20.000"), event("e4", "recording.paused", "10:00:30.000"),
                        event("e5", "recording.resumed", "10:00:40.000"),
                    ]
                    _ = try await collector.callEvents.accept(
                        Data(#"{"events":[\#(batch.joined(separator: ","))]}"#.utf8), from: pbx, source: "test")
                case .transferEvents:
                    let batch = [
                        event("e6", "leg.transferred", "10:01:00.000", extra: #","related_leg_id":"leg-2""#),
                        event("e7", "leg.ended", "10:01:00.000"), event("e8", "leg.started", "10:01:00.250", leg: "leg-2"),
                        event("e9", "leg.ended", "10:02:00.000", leg: "leg-2"),
                    ]
                    _ = try await collector.callEvents.accept(
                        Data(#"{"events":[\#(batch.joined(separator: ","))]}"#.utf8), from: pbx, source: "test")
                case .voice:
                    _ = try await collector.ingestVoice(
                        speech, contentType: "audio/wav",
                        metadata: VoiceMetadata(
                            interactionId: "call-1", legId: "leg-1", startedAt: "2026-12-01T10:00:00.500Z",
                            agentId: "agent-7", channelLayout: [.customer, .agent]),
                        integration: "pbx", deliveredBy: "put")
                case .screenA, .screenB:
                    let (agent, segment) = part == .screenA ? (a, screenA) : (b, screenB)
                    try agent.upload(segment, to: collector)
                    _ = try await collector.acceptManifest(
                        segment.manifestBytes, from: try await collector.agents.get(agent.id), source: "test")
                }
            }
            return try #require(try await collector.timeline("call-1", now: CallEvent.parseTime("2026-12-01T11:00:00Z")!))
        }
    }

    static func speech() throws -> [UInt8] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("speech-\(UUID().uuidString).wav").path
        let made = try ProcessRunner.run("sox", ["-n", "-r", "8000", "-c", "2", "-b", "16", file, "synth", "3", "sine", "440"])
        guard made.status == 0 else { throw TestFailure("sox: \(made.stderr)") }
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
    }

    /// The timeline as compared: the voice recording's random id left out.
    static func comparable(_ timeline: CallTimeline) throws -> String {
        var copy = timeline
        for index in copy.voice.indices { copy.voice[index].id = "(id)" }
        return String(decoding: try StrictJSON.encode(copy, pretty: true), as: UTF8.self) + "\n"
    }

    @Test(arguments: Backend.allCases)
    func aTransferredCallLinesUpOnOneClockAsItsGoldenFileSays(_ backend: Backend) async throws {
        let timeline = try await Self.deliver(Part.allCases, speech: try Self.speech(), backend: backend)
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Golden/timeline-v1.json")
        let text = try Self.comparable(timeline)
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" { try text.write(to: golden, atomically: true, encoding: .utf8) }
        #expect(text == (try String(contentsOf: golden, encoding: .utf8)), "\(text)")

        // What the golden file holds, said in words.
        let screenA = try #require(timeline.screen.first { $0.agentId == "ws-a" })
        #expect(screenA.offsetMs == 0 && screenA.clockCorrectionMs == 300_000, "ws-a's five fast minutes taken off")
        #expect((screenA.uncertaintyMs ?? 99) <= 40, "within lip-sync: \(String(describing: screenA.uncertaintyMs))")
        let screenB = try #require(timeline.screen.first { $0.agentId == "ws-b" })
        #expect(screenB.offsetMs == 60_000 && screenB.legs == ["leg-2"], "each agent's screen during its own leg")
        #expect(screenB.monitor == "DP-1" && screenA.monitor == "screen")
        #expect(timeline.voice.first?.offsetMs == 500 && timeline.voice.first?.match.method == "interaction")
        #expect(timeline.bands.map(\.kind).contains("hold") && timeline.bands.contains { $0.kind == "transfer" && $0.fromMs == 60_000 })
        #expect(timeline.bands.contains { $0.kind == "pause" && $0.fromMs == 30_000 && $0.toMs == 40_000 })
        let noScreen = timeline.bands.filter { $0.kind == "no_screen" }
        #expect(noScreen.count == 1 && noScreen[0].legId == "leg-2" && noScreen[0].fromMs == 90_000, "B's screen ends before its leg: \(noScreen)")
        #expect(timeline.sync.withinLimit && timeline.participants.count == 2)
    }

    /// Voice before screen, screen before events, events after an outage: every order of the five parts.
    @Test func everyArrivalOrderGivesTheSameTimeline() async throws {
        let speech = try Self.speech()
        let reference = try Self.comparable(try await Self.deliver(Part.allCases, speech: speech))
        var orders: [[Part]] = [[]]
        for _ in Part.allCases {
            orders = orders.flatMap { order in Part.allCases.filter { !order.contains($0) }.map { order + [$0] } }
        }
        #expect(orders.count == 120)
        for order in orders {
            let text = try Self.comparable(try await Self.deliver(order, speech: speech))
            #expect(text == reference, "\(order)")
            if text != reference { break }
        }
    }
}
