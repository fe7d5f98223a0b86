import CollectorCore
import Foundation
import RecorderCore
import TestSupport
import TestTraits
import Testing

/// `voice import DIR`: a Genesys GIR archive, Amazon Connect recordings and a baresip softphone's dumps
/// (written as those systems name and describe them), each matched to its call, imported once.
@Suite(.serialized, .realTime)
struct VoiceImportTests {
    static func tool(_ name: String, _ arguments: [String]) throws {
        let result = try ProcessRunner.run(name, arguments)
        guard result.status == 0 else { throw TestFailure("\(name) \(arguments): \(result.stderr)") }
    }

    /// The directory: `gir/…/recording.json` with two media files, a Connect stereo recording, baresip's
    /// two dumps of one call and one dump of a call nobody reported, and a broken recording.json.
    static func directory() throws -> String {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("import-\(UUID().uuidString)").path
        let gir = "\(base)/cc-1/tenant/2026-12-01/rec-1"
        let broken = "\(base)/cc-1/tenant/2026-12-01/rec-2"
        for directory in [gir, broken, "\(base)/connect", "\(base)/baresip"] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let speech = "\(base)/speech.wav"
        try tool("espeak-ng", ["-w", speech, "Hello, you are speaking to the billing team."])
        try tool("sox", [speech, "-r", "8000", "-e", "u-law", "\(gir)/rec-1_part1.wav"])
        try tool("sox", [speech, "-r", "8000", "-e", "a-law", "\(gir)/rec-1_part2.wav"])
        try #"""
        {"id":"rec-1","callerPhoneNumber":"8522001","dialedPhoneNumber":"+14160000001",
         "startTime":"2026-12-01T09:00:00.000+0000","stopTime":"2026-12-01T09:00:30.000+0000",
         "mediaFiles":[
          {"mediaId":"rec-1_part1.wav","callUUID":"gir-call-1","startTime":"2026-12-01T09:00:00.000+0000",
           "stopTime":"2026-12-01T09:00:04.000+0000","type":"audio/wav",
           "parameters":{"connId":"006a0269722cd93f","ani":"8522001","dnis":"+14160000001","agentId":"agent-gir"}},
          {"mediaPath":"/recordings/rec-1/play/rec-1_part2.wav","callUUID":"gir-call-1",
           "startTime":"2026-12-01T09:00:10.500+0100","type":"audio/wav","parameters":{"connId":"006a0269722cd940"}}
         ]}
        """#.write(toFile: "\(gir)/recording.json", atomically: true, encoding: .utf8)
        try #"{"id":"rec-2","mediaFiles":[{"mediaId":"x.wav"}]}"#.write(
            toFile: "\(broken)/recording.json", atomically: true, encoding: .utf8)
        try tool("sox", ["-n", "-r", "8000", "-c", "1", "-b", "16", "\(base)/tone.wav", "synth", "3", "sine", "300"])
        try tool("sox", [speech, "-r", "8000", "-b", "16", "\(base)/speech8k.wav"])
        try tool(
            "sox",
            ["-M", "\(base)/speech8k.wav", "\(base)/tone.wav", "\(base)/connect/3f1a2b4c-5d6e-4f70-8192-a3b4c5d6e7f8_20261201T10:00_UTC.wav"])
        // Paris is UTC+1 in December: the softphone's call at 10:05:00Z is 11:05 in the names.
        try tool("sox", [speech, "-r", "8000", "-b", "16", "\(base)/baresip/dump-2026-12-01-11-05-01-dec.wav"])
        try tool("sox", ["\(base)/tone.wav", "\(base)/baresip/dump-2026-12-01-11-05-01-enc.wav"])
        try tool("sox", ["\(base)/tone.wav", "\(base)/baresip/dump-2026-12-01-15-00-00-enc.wav"])
        // A date that does not exist, and a link to a file outside the directory.
        try tool("sox", ["\(base)/tone.wav", "\(base)/baresip/dump-2026-13-01-11-05-01-enc.wav"])
        try FileManager.default.createSymbolicLink(
            atPath: "\(base)/baresip/dump-2026-12-01-11-05-02-dec.wav", withDestinationPath: "\(base)/tone.wav")
        try FileManager.default.removeItem(atPath: speech)
        return base
    }

    @Test(arguments: Backend.allCases)
    func eachConventionIsMatchedToItsCallAndImportedOnce(_ backend: Backend) async throws {
        let directory = try Self.directory()
        try await withCollector(backend) { collector in
            _ = try await collector.integrations.create(name: "gir", kind: .webhook, by: adminActor)
            let (connect, _) = try await collector.integrations.create(name: "connect", kind: .webhook, by: adminActor)
            // The Connect contact is a transferred leg of initial contact "initial-1", connected at 10:00:20.
            let leg =
                #"{"event_id":"c-1","type":"leg.started","occurred_at":"2026-12-01T10:00:20.125Z","interaction_id":"initial-1","leg_id":"3f1a2b4c-5d6e-4f70-8192-a3b4c5d6e7f8","agent_id":"arn:aws:connect:agent/7"}"#
            _ = try await collector.callEvents.accept(Data(leg.utf8), from: connect, source: "test")
            // Workstation ws-a's softphone reported its call.
            let softphone =
                #"{"events":[{"event_id":"baresip/sip-9/established","type":"leg.started","occurred_at":"2026-12-01T10:05:00.300Z","interaction_id":"sip-9","leg_id":"sip-9","agent_id":"sip:agent-a@pbx"},{"event_id":"baresip/sip-9/closed","type":"leg.ended","occurred_at":"2026-12-01T10:05:30Z","interaction_id":"sip-9","leg_id":"sip-9"}]}"#
            _ = try await collector.callEvents.accept(
                Data(softphone.utf8), from: Integrations.workstation("ws-a"), source: "test", routed: false)

            let paris = try #require(TimeZone(identifier: "Europe/Paris"))
            // One phone system's files at a time, as they come from one system's archive.
            var report = try await collector.importVoice(
                from: URL(fileURLWithPath: "\(directory)/cc-1"), integration: "gir", workstation: nil)
            let fromConnect = try await collector.importVoice(
                from: URL(fileURLWithPath: "\(directory)/connect"), integration: "connect", workstation: nil)
            let fromSoftphone = try await collector.importVoice(
                from: URL(fileURLWithPath: "\(directory)/baresip"), integration: nil, workstation: "ws-a", timeZone: paris)
            report.imported += fromConnect.imported + fromSoftphone.imported
            report.problems += fromConnect.problems + fromSoftphone.problems
            let byLeg = Dictionary(report.imported.map { ($0.legId, $0) }) { first, _ in first }
            #expect(report.imported.count == 5, "\(report.imported.map(\.legId)) \(report.problems)")

            let part1 = try #require(byLeg["006a0269722cd93f"])
            #expect(part1.interactionId == "gir-call-1" && part1.integration == "gir")
            #expect(part1.startedAt == "2026-12-01T09:00:00.000Z" && part1.agentId == "agent-gir" && part1.ani == "8522001")
            #expect(part1.audio.codec == .mulaw)
            let part2 = try #require(byLeg["006a0269722cd940"])
            #expect(part2.startedAt == "2026-12-01T08:00:10.500Z", "+0100 read as a zone")
            #expect(part2.dnis == "+14160000001" && part2.audio.codec == .alaw, "the recording's own DNIS")

            let dumps = report.imported.filter { $0.legId == "sip-9" }
            #expect(Set(dumps.map(\.channelLayout)) == [[.agent], [.customer]], "one voice each: \(dumps.map(\.channelLayout))")
            #expect(dumps.allSatisfy { $0.integration == "workstation:ws-a" && $0.sipCallId == "sip-9" })
            // Named 11:05:01 local, the call started at 10:05:00.300Z: not within that second, so its middle.
            #expect(dumps.allSatisfy { $0.startedAt == "2026-12-01T10:05:01.500Z" && $0.startUncertaintyMs == 500 })

            // Connect: not the file's own id but its call's, the catalog's start, customer left, agent right.
            let amazon = report.imported.first { $0.legId == "3f1a2b4c-5d6e-4f70-8192-a3b4c5d6e7f8" }
            #expect(amazon?.interactionId == "initial-1" && amazon?.startedAt == "2026-12-01T10:00:20.125Z", "\(String(describing: amazon))")
            #expect(amazon?.channelLayout == [.customer, .agent] && amazon?.startUncertaintyMs == 0)

            let problems = report.problems.map { "\(($0.file as NSString).lastPathComponent): \($0.message)" }
            #expect(problems.count == 4, "\(problems)")
            #expect(problems.contains { $0.hasPrefix("dump-2026-13-01") && $0.contains("not a date that exists") }, "\(problems)")
            #expect(problems.contains { $0.hasPrefix("dump-2026-12-01-11-05-02-dec.wav") && $0.contains("link") }, "\(problems)")
            #expect(problems.contains { $0.contains("recording.json") && $0.contains("mediaFiles[0].startTime is missing") }, "\(problems)")
            #expect(problems.contains { $0.hasPrefix("dump-2026-12-01-15-00-00-enc.wav") && $0.contains("no call of workstation ws-a") })
        }
    }

    /// A workstation five minutes fast: its dump's name is matched to the phone system's leg by the
    /// name corrected with the measured offset, and not pinned to that leg's start (another clock).
    @Test func aSkewedWorkstationsDumpFindsThePhoneSystemsLeg() async throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("skew-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        try Self.tool("sox", ["-n", "-r", "8000", "-c", "1", "-b", "16", "\(base)/dump-2026-12-01-10-10-01-dec.wav", "synth", "2", "sine", "300"])
        try await withCollector(.sqlite) { collector in
            let (pbx, _) = try await collector.integrations.create(name: "pbx", kind: .webhook, by: adminActor)
            _ = try await SimulatedAgent(id: "ws-a", nodePath: "/").enrol(with: collector, actor: adminActor)
            _ = try await collector.agentIdentities.set(integration: "pbx", externalId: "agent-7", agentId: "ws-a", by: adminActor)
            let received = CallEvent.parseTime("2026-12-01T10:00:00Z")!
            _ = try await collector.heartbeats.record(
                AgentHeartbeat(
                    sentAt: received.addingTimeInterval(300 - 0.005), roundTripMs: 10, state: .recording, spoolSegments: 0,
                    spoolBytes: 0, lastError: nil, lastErrorAt: nil),
                agentId: "ws-a", receivedAt: received)
            let leg =
                #"{"event_id":"e1","type":"leg.started","occurred_at":"2026-12-01T10:05:00.400Z","interaction_id":"call-s","leg_id":"leg-1","agent_id":"agent-7"}"#
            _ = try await collector.callEvents.accept(Data(leg.utf8), from: pbx, source: "test")
            let report = try await collector.importVoice(
                from: URL(fileURLWithPath: base), integration: nil, workstation: "ws-a", timeZone: TimeZone(identifier: "UTC")!)
            let record = try #require(report.imported.first, "\(report.problems)")
            #expect(record.interactionId == "call-s" && record.integration == "pbx")
            #expect(record.startedAt == "2026-12-01T10:10:01.500Z" && record.clockOf == "ws-a" && record.startUncertaintyMs == 500)
            let timeline = try #require(try await collector.timeline("call-s", integration: "pbx"))
            #expect(timeline.voice.first.map { abs($0.offsetMs - 1100) <= 20 } == true, "\(timeline.voice)")
        }
    }

    @Test func importingTwiceAddsNothingAndTheCommandSaysWhatWasLeft() async throws {
        let directory = try Self.directory()
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("collector-\(UUID().uuidString)")
        try await withCollector(.sqlite, directory: data) { collector in
            _ = try await collector.integrations.create(name: "gir", kind: .webhook, by: adminActor)
        }
        let tool = ProcessRunner.product("recorder-collector")
        let arguments = ["voice", "import", directory, "--integration", "gir", "--data-dir", data.path]
        let first = try ProcessRunner.run(tool, arguments)
        #expect(first.status == 1, "files were left: \(first.stdout) \(first.stderr)")
        #expect(first.stdout.contains("3 imported, 0 already catalogued, 6 not imported"), "\(first.stdout) \(first.stderr)")
        #expect(first.stderr.contains("say whose softphone wrote it with --workstation"), "\(first.stderr)")
        let second = try ProcessRunner.run(tool, arguments)
        #expect(second.stdout.contains("0 imported, 3 already catalogued"), "\(second.stdout)")
        let listed = try ProcessRunner.run(tool, ["voice", "list", "--call", "gir-call-1", "--data-dir", data.path])
        #expect(listed.status == 0 && listed.stdout.split(separator: "\n").count == 3, "\(listed.stdout) \(listed.stderr)")
    }
}
