import CollectorCore
import Foundation
import RecorderCore
import TestSupport
import TestTraits
import Testing

/// The correlation job: calls are matched again whenever their events, voice or screen change, in any
/// order; a recording that names no call finds the call it belongs to by its agent and time.
@Suite(.serialized, .realTime)
struct CorrelationJobTests {
    static func wav() throws -> [UInt8] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("job-\(UUID().uuidString).wav").path
        let made = try ProcessRunner.run("sox", ["-n", "-r", "8000", "-c", "1", "-b", "16", file, "synth", "20", "sine", "300"])
        guard made.status == 0 else { throw TestFailure("sox: \(made.stderr)") }
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
    }

    @Test(arguments: Backend.allCases)
    func lateArrivalsAreMatchedAgainAndAStrayRecordingFindsItsCall(_ backend: Backend) async throws {
        let audio = try Self.wav()
        try await withCollector(backend) { collector in
            let job = CorrelationJob(collector: collector, worker: "test")
            let (pbx, _) = try await collector.integrations.create(name: "pbx", kind: .webhook, by: adminActor)
            let agent = SimulatedAgent(id: "ws-a", nodePath: "/", epoch: CallEvent.parseTime("2026-12-01T09:59:00Z")!)
            _ = try await agent.enrol(with: collector, actor: adminActor)
            _ = try await collector.agentIdentities.set(integration: "pbx", externalId: "agent-7", agentId: "ws-a", by: adminActor)
            func voice(_ interaction: String, _ bytes: [UInt8]) async throws {
                _ = try await collector.ingestVoice(
                    bytes, contentType: "audio/wav",
                    metadata: VoiceMetadata(
                        interactionId: interaction, legId: "leg-1", startedAt: "2026-12-01T10:00:01.000Z", agentId: "agent-7"),
                    integration: "pbx", deliveredBy: "put")
            }
            // Voice first: no call yet, nothing to link.
            try await voice("call-9", audio)
            #expect(try await job.runOnce() == 1)
            #expect(try await job.result(integration: "pbx", interaction: "call-9") == nil)
            #expect(try await job.waiting() == 0)

            // The events arrive: the call is matched with the voice that waited.
            let events =
                #"{"events":[{"event_id":"e1","type":"leg.started","occurred_at":"2026-12-01T10:00:00Z","interaction_id":"call-9","leg_id":"leg-1","agent_id":"agent-7"},{"event_id":"e2","type":"leg.ended","occurred_at":"2026-12-01T10:00:50Z","interaction_id":"call-9","leg_id":"leg-1","agent_id":"agent-7"}]}"#
            _ = try await collector.callEvents.accept(Data(events.utf8), from: pbx, source: "test")
            #expect(try await job.runOnce() == 1)
            #expect(try await job.result(integration: "pbx", interaction: "call-9")?.voice == 1)

            // The screen comes last.
            let segment = try agent.nextSegment(callId: "call-9") { $0.durationMs = 50_000 }
            try agent.upload(segment, to: collector)
            _ = try await collector.acceptManifest(segment.manifestBytes, from: try await collector.agents.get("ws-a"), source: "test")
            #expect(try await job.runOnce() == 1)
            let result = try #require(try await job.result(integration: "pbx", interaction: "call-9"))
            #expect(result.screen == 1 && result.runs == 2, "\(result)")

            // A recording filed under the phone system's own recording id, not the call's: found by its
            // agent and time, through the call it overlaps.
            var other = audio
            other[other.count - 1] ^= 1
            try await voice("rec-77", other)
            #expect(try await job.runOnce() == 1, "the stray key passes the job on to its call")
            #expect(try await job.runOnce() == 1)
            let links = try await job.links(integration: "pbx", interaction: "call-9").map { "\($0.kind) \($0.method)" }
            #expect(links.sorted() == ["screen interaction", "voice agent-time", "voice interaction"], "\(links)")
            #expect(try await job.waiting() == 0)
        }
    }
}
