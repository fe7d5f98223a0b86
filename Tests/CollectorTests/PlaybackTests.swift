import CollectorCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RecorderCore
import TestSupport
import TestTraits
import WebDAV
import Testing

/// The player's media: the collector opens a call's sealed screen segment and voice recording (real
/// CMS, real VP8 from ffmpeg, a real WAV) and serves them with HTTP Range, only to users who may see
/// the call, refusing a stored file that is not the one catalogued, and auditing the playing once.
@Suite(.serialized, .realTime)
struct PlaybackTests {
    /// Opened whole (the default for small files), and read by ranges from the sealed file (what large
    /// built-in recordings get): the same bytes, the same refusals.
    @Test(arguments: [nil, 0])
    func aCallsScreenAndVoiceAreServedOpenedWithRangesToThoseWhoMaySeeIt(_ rangedThreshold: Int?) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("playback-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try VoiceIngestTests.tool(
            "ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=5:duration=2", "-c:v", "libvpx", "\(directory)/screen.webm"])
        try VoiceIngestTests.tool("sox", ["-n", "-r", "8000", "-c", "1", "-b", "16", "\(directory)/voice.wav", "synth", "2", "sine", "440"])
        let webm = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(directory)/screen.webm")))
        let wav = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(directory)/voice.wav")))
        // Phone systems record G.711; browsers play 16-bit PCM: sox's decoding is the reference.
        try VoiceIngestTests.tool("espeak-ng", ["-w", "\(directory)/speech.wav", "Your payment is confirmed."])
        for law in ["u-law", "a-law"] {
            try VoiceIngestTests.tool("sox", ["\(directory)/speech.wav", "-r", "8000", "-c", "1", "-e", law, "\(directory)/\(law).wav"])
            try VoiceIngestTests.tool("sox", ["\(directory)/\(law).wav", "-e", "signed-integer", "-b", "16", "\(directory)/\(law)-pcm.wav"])
        }

        try await withAPI(rangedThreshold: rangedThreshold) { api, collector, password in
            let (pbx, _) = try await collector.integrations.create(name: "pbx", kind: .webhook, by: adminActor)
            let agent = SimulatedAgent(id: "ws-a", nodePath: "/emea/paris", epoch: CallEvent.parseTime("2026-12-01T09:59:00Z")!)
            _ = try await agent.enrol(with: collector, actor: adminActor)
            _ = try await collector.agentIdentities.set(integration: "pbx", externalId: "agent-7", agentId: "ws-a", by: adminActor)
            let event =
                #"{"event_id":"e1","type":"leg.started","occurred_at":"2026-12-01T10:00:00Z","interaction_id":"call-1","leg_id":"leg-1","agent_id":"agent-7"}"#
            _ = try await collector.callEvents.accept(Data(event.utf8), from: pbx, source: "test")
            let recipients = try await collector.recordingKeys.active().map { try SealingRecipient(certificatePEM: $0.certificatePEM) }
            let sealed = try SegmentSealer.seal(webm, for: recipients)
            let segment = try agent.nextSegment(callId: "call-1", sealed: Data(sealed)) {
                $0.legs = [CallLeg(interactionId: "call-1", legId: "leg-1")]
            }
            try agent.upload(segment, to: collector)
            _ = try await collector.acceptManifest(segment.manifestBytes, from: try await collector.agents.get("ws-a"), source: "test")
            // A second segment, whose stored file is changed after it was catalogued.
            let second = try agent.nextSegment(callId: "call-1", sealed: Data(try SegmentSealer.seal(webm, for: recipients))) {
                $0.legs = [CallLeg(interactionId: "call-1", legId: "leg-1")]
            }
            try agent.upload(second, to: collector)
            _ = try await collector.acceptManifest(second.manifestBytes, from: try await collector.agents.get("ws-a"), source: "test")
            var altered = [UInt8](second.sealed)
            altered[altered.count - 20] ^= 0x01
            try Data(altered).write(to: try collector.builtinStore().url(StorePath(components: second.objectPath)))
            let voice = try await collector.ingestVoice(
                wav, contentType: "audio/wav",
                metadata: VoiceMetadata(
                    interactionId: "call-1", legId: "leg-1", startedAt: "2026-12-01T10:00:00.500Z", agentId: "agent-7",
                    channelLayout: [.mixed]),
                integration: "pbx", deliveredBy: "put")
            try await collector.users.create(
                username: "sup-paris", password: "correct horse battery", profile: .init(role: .supervisor, scopes: ["/emea/paris"]),
                by: adminActor)
            try await collector.users.create(
                username: "sup-lyon", password: "correct horse battery", profile: .init(role: .supervisor, scopes: ["/emea/lyon"]),
                by: adminActor)

            func get(_ uri: String, range: String? = nil) async throws -> (status: Int, headers: HTTPFields, body: [UInt8]) {
                var headers: HTTPFields = [:]
                if let token = api.token { headers[.authorization] = "Bearer \(token)" }
                if let range { headers[.range] = range }
                return try await api.client.execute(uri: uri, method: .get, headers: headers) {
                    (Int($0.status.code), $0.headers, [UInt8](buffer: $0.body))
                }
            }
            let screenURI = "/api/v1/calls/call-1/screen/ws-a/1"
            let voiceURI = "/api/v1/calls/call-1/voice/\(voice.record.id)/audio"

            try await RolesAndSessionsTests.logIn(api, "sup-paris", "correct horse battery")
            let whole = try await get(screenURI)
            #expect(whole.status == 200 && whole.body == webm, "\(whole.status) \(whole.body.count) bytes")
            #expect(whole.headers[.contentType] == "video/webm" && whole.headers[.acceptRanges] == "bytes")
            #expect(whole.headers[.cacheControl] == "no-store")
            #expect(whole.headers[.contentDisposition]?.contains("call-1_ws-a_") == true, "\(whole.headers)")
            let part = try await get(screenURI, range: "bytes=100-199")
            #expect(part.status == 206 && part.body == Array(webm[100..<200]))
            #expect(part.headers[.contentRange] == "bytes 100-199/\(webm.count)")
            let tail = try await get(screenURI, range: "bytes=-10")
            #expect(tail.status == 206 && tail.body == Array(webm.suffix(10)))
            #expect(try await get(screenURI, range: "bytes=\(webm.count)-").status == 416)
            // What was served is the recording: ffprobe reads VP8 at 160×120, 2 s.
            let served = "\(directory)/served.webm"
            try Data(whole.body).write(to: URL(fileURLWithPath: served))
            let probe = try ProcessRunner.run(
                "ffprobe", ["-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", served])
            #expect(probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "vp8,160,120", "\(probe.stdout)")

            let audio = try await get(voiceURI)
            #expect(audio.status == 200 && audio.body == wav && audio.headers[.contentType] == "audio/wav")
            #expect(try await get(voiceURI, range: "bytes=0-43").body == Array(wav.prefix(44)), "the WAV header")
            for (index, law) in ["u-law", "a-law"].enumerated() {
                let g711 = try await collector.ingestVoice(
                    [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(law).wav"))), contentType: "audio/wav",
                    metadata: VoiceMetadata(
                        interactionId: "call-1", legId: "leg-1", startedAt: "2026-12-01T10:00:0\(index + 1).000Z", agentId: "agent-7",
                        channelLayout: [.mixed]),
                    integration: "pbx", deliveredBy: "put")
                let played = try await get("/api/v1/calls/call-1/voice/\(g711.record.id)/audio")
                let reference = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(law)-pcm.wav")))
                let samples = { (wav: [UInt8]) in Array(wav[(wav.count - (wav.count - 44) / 2 * 2)...]) }
                #expect(played.status == 200 && abs(played.body.count - 44 - Int(g711.record.audio.durationMs) * 16) < 16, "\(law)")
                #expect(samples(played.body).suffix(8000) == samples(reference).suffix(8000), "\(law): the same samples as sox decodes")
                // A range decodes just itself, across the header's end and at an odd byte.
                for range in ["bytes=40-59", "bytes=1001-2002", "bytes=-7"] {
                    let part = try await get("/api/v1/calls/call-1/voice/\(g711.record.id)/audio", range: range)
                    let bounds = range.dropFirst(6).split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
                    let expected =
                        bounds[0] == nil
                        ? Array(played.body.suffix(bounds[1]!)) : Array(played.body[bounds[0]!...bounds[1]!])
                    #expect(part.status == 206 && part.body == expected, "\(law) \(range)")
                }
                let probe = "\(directory)/played-\(law).wav"
                try Data(played.body).write(to: URL(fileURLWithPath: probe))
                let codec = try ProcessRunner.run("ffprobe", ["-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", probe])
                #expect(codec.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "pcm_s16le", "\(codec.stdout)")
            }
            // Several ranges, one audit entry.
            let plays = try await AuditLog.entries(limit: 50, in: collector.catalog.sql).filter { $0.action == "call.play" }
            #expect(plays.count == 1 && plays[0].actor == "user:sup-paris", "\(plays)")
            #expect(plays.first?.target == "call:pbx/call-1", "the call's integration is named")

            // Another site's supervisor: as if nothing were there. A segment not in the call: nothing either.
            try await RolesAndSessionsTests.logIn(api, "sup-lyon", "correct horse battery")
            #expect(try await get(screenURI).status == 404)
            #expect(try await get(voiceURI).status == 404)
            try await RolesAndSessionsTests.logIn(api, "admin", password)
            #expect(try await get("/api/v1/calls/call-1/screen/ws-a/3").status == 404)
            // A stored file that is not the one catalogued is refused, not played.
            let refused = try await get("/api/v1/calls/call-1/screen/ws-a/2")
            #expect(refused.status == 422, "\(refused.status)")
            #expect(String(decoding: refused.body, as: UTF8.self).contains("is not the file catalogued"))
            // Read by ranges, an opened voice whose file is then written over in place (counter mode
            // has no tag per range) is checked again, and refused, instead of serving other bytes.
            if rangedThreshold != nil {
                #expect(try await get(voiceURI, range: "bytes=0-99").status == 206)
                let file = try collector.builtinStore().url(StorePath(components: voice.record.objectPath.split(separator: "/").map(String.init)))
                let handle = try FileHandle(forUpdating: file)
                let end = try handle.seekToEnd()
                try handle.seek(toOffset: end - 100)
                let byte = try #require(try handle.read(upToCount: 1))
                try handle.seek(toOffset: end - 100)
                try handle.write(contentsOf: Data([byte[0] ^ 0x01]))
                try handle.close()
                let changed = try await get(voiceURI, range: "bytes=0-99")
                #expect(changed.status == 422, "\(changed.status)")
            }
        }
    }
}
