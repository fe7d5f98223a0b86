import CollectorCore
import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TestSupport
import TestTraits
import Testing

/// `PUT /api/v1/voice/{interaction}/{leg}`: real recordings made by espeak-ng, sox and ffmpeg, read by
/// our own parser (its figures checked against ffprobe's), sealed at rest so that `openssl cms`
/// opens them byte for byte, catalogued once; broken, truncated, mislabelled and unsupported files
/// refused with the problem named and nothing kept.
@Suite(.serialized, .realTime)
struct VoiceIngestTests {
    /// The test's recordings, made once per test in a fresh directory.
    struct Recordings {
        let directory: String
        var speech: String { "\(directory)/speech.wav" }

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("voice-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try tool("espeak-ng", ["-w", speech, "Thank you for calling. Your card payment has been taken."])
            try tool("sox", [speech, "-r", "8000", "-e", "u-law", "\(directory)/mulaw.wav"])
            try tool("sox", [speech, "-r", "8000", "-e", "a-law", "\(directory)/alaw.wav"])
            try tool("sox", [speech, "-r", "8000", "-b", "16", "\(directory)/speech8k.wav"])
            try tool("sox", ["-n", "-r", "8000", "-b", "16", "-c", "1", "\(directory)/tone.wav", "synth", "3", "sine", "440"])
            try tool("sox", ["-M", "\(directory)/speech8k.wav", "\(directory)/tone.wav", "\(directory)/stereo.wav"])
            try tool("sox", [speech, "-b", "8", "-e", "unsigned-integer", "\(directory)/pcm8.wav"])
            try tool("ffmpeg", ["-v", "error", "-i", speech, "-c:a", "libopus", "-b:a", "24k", "\(directory)/speech.opus"])
            try tool("ffmpeg", ["-v", "error", "-i", speech, "-c:a", "libmp3lame", "\(directory)/speech.mp3"])
        }

        func bytes(_ name: String) throws -> [UInt8] {
            [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)")))
        }

        /// ffprobe's duration of a file, in ms.
        func probedMs(_ name: String) throws -> Int {
            let out = try tool(
                "ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", "\(directory)/\(name)"])
            return Int((Double(out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) * 1000)
        }
    }

    @discardableResult
    static func tool(_ name: String, _ arguments: [String]) throws -> String {
        let result = try ProcessRunner.run(name, arguments)
        guard result.status == 0 else { throw TestFailure("\(name) \(arguments): \(result.stderr)") }
        return result.stdout
    }

    static func put(
        _ api: Session, _ token: String, _ path: String, _ body: [UInt8], contentType: String? = "audio/wav",
        headers extra: [String: String] = ["X-Voice-Start": "2026-11-23T12:00:00.250Z"]
    ) async throws -> Reply {
        var headers: HTTPFields = [.authorization: "Bearer \(token)"]
        if let contentType { headers[.contentType] = contentType }
        for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
        return try await api.client.execute(uri: path, method: .put, headers: headers, body: ByteBuffer(bytes: body)) {
            response in
            let object = (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
            return Reply(status: Int(response.status.code), json: object)
        }
    }

    @Test(arguments: Backend.allCases)
    func recordingsOfEveryTakenFormatAreReadSealedAndCataloguedOnce(_ backend: Backend) async throws {
        let files = try Recordings()
        try await withAPI(backend) { api, collector, password in
            try await api.logIn(password)
            let created = try await api.send(.post, "/api/v1/admin/integrations", json: #"{"name":"pbx"}"#)
            let token = try #require(created.json["token"] as? String)
            let cases: [(file: String, type: String, codec: String, channels: Int, rate: Int, layout: String?)] = [
                ("speech.wav", "audio/wav", "pcm_s16le", 1, 22050, nil),
                ("mulaw.wav", "audio/x-wav", "pcm_mulaw", 1, 8000, nil),
                ("alaw.wav", "audio/wav; codecs=8", "pcm_alaw", 1, 8000, nil),
                ("stereo.wav", "application/octet-stream", "pcm_s16le", 2, 8000, "customer,agent"),
                ("speech.opus", "audio/ogg", "opus", 1, 48000, nil),
            ]
            for (index, item) in cases.enumerated() {
                var headers = [
                    "X-Voice-Start": "2026-11-23T13:00:00.250+01:00", "X-Voice-Agent": "agent-7",
                    "X-Voice-Direction": "inbound", "X-Voice-ANI": "+33123456789", "X-Voice-SIP-Call-ID": "abc@pbx",
                ]
                if let layout = item.layout { headers["X-Voice-Channels"] = layout }
                let reply = try await Self.put(
                    api, token, "/api/v1/voice/call%2F\(index)/leg-1", try files.bytes(item.file), contentType: item.type,
                    headers: headers)
                #expect(reply.status == 201, "\(item.file): \(reply.json)")
                let audio = reply.json["audio"] as? [String: Any] ?? [:]
                #expect(audio["codec"] as? String == item.codec, "\(item.file): \(audio)")
                #expect(audio["channels"] as? Int == item.channels && audio["sample_rate"] as? Int == item.rate, "\(audio)")
                let duration = audio["duration_ms"] as? Int ?? 0
                let probed = try files.probedMs(item.file)
                #expect(abs(duration - probed) <= 30, "\(item.file): ours \(duration) ms, ffprobe's \(probed) ms")
                #expect(reply.json["interaction_id"] as? String == "call/\(index)", "percent-decoded")
                #expect(reply.json["started_at"] as? String == "2026-11-23T12:00:00.250Z", "normalised to UTC")
                let layout = reply.json["channel_layout"] as? [String] ?? []
                #expect(layout == (item.layout?.split(separator: ",").map(String.init) ?? ["mixed"]), "\(layout)")

                // At rest: sealed, and openssl opens it to the very bytes that were sent.
                let objectPath = try #require(reply.json["object_path"] as? String)
                #expect(objectPath.hasPrefix("2026/11/23/voice/call_\(index)/"), "\(objectPath)")
                let stored = collector.dataDirectory.appendingPathComponent("store/\(objectPath)").path
                let sealed = try #require(FileManager.default.contents(atPath: stored))
                #expect(!sealed.starts(with: Array("RIFF".utf8)) && !sealed.starts(with: Array("OggS".utf8)))
                #expect(SHA256.hash(data: sealed).map { String(format: "%02x", $0) }.joined() == reply.json["sealed_sha256"] as? String)
                let key = try #require(try await collector.recordingKeys.active().first)
                let certificate = "\(files.directory)/key.pem"
                try key.certificatePEM.write(toFile: certificate, atomically: true, encoding: .utf8)
                let opened = try ProcessRunner.run(
                    "openssl",
                    [
                        "cms", "-decrypt", "-binary", "-inform", "DER", "-in", stored, "-recip", certificate, "-inkey",
                        collector.dataDirectory.appendingPathComponent("keys/\(key.id).key").path,
                    ])
                #expect(opened.status == 0, "\(opened.stderr)")
                #expect(Array(opened.stdoutData) == (try files.bytes(item.file)), "\(item.file) opens byte for byte")
            }

            // The same bytes again for the same leg: the recording already catalogued, nothing new stored.
            let first = try await Self.put(api, token, "/api/v1/voice/call-x/leg-1", try files.bytes("mulaw.wav"))
            let again = try await Self.put(api, token, "/api/v1/voice/call-x/leg-1", try files.bytes("mulaw.wav"))
            #expect(first.status == 201 && again.status == 200, "\(again.json)")
            #expect(first.json["id"] as? String == again.json["id"] as? String)
            let listed = try await api.send(.get, "/api/v1/calls/call-x/voice")
            #expect((listed.json["items"] as? [[String: Any]])?.count == 1, "\(listed.json)")
            let voiceFiles = (FileManager.default.enumerator(atPath: collector.dataDirectory.appendingPathComponent("store").path)?
                .allObjects as? [String] ?? []).filter { $0.hasSuffix(".p7m") && $0.contains("/voice/") }
            #expect(voiceFiles.count == cases.count + 1, "\(voiceFiles)")
        }
    }

    /// `wav` with a second data chunk of 4 bytes appended inside its RIFF (its size grown to hold it).
    static func withSecondDataChunk(_ wav: [UInt8]) -> [UInt8] {
        var bytes = wav + Array("data".utf8) + [4, 0, 0, 0, 1, 2, 3, 4]
        let riff = UInt32(bytes.count - 8)
        for index in 0..<4 { bytes[4 + index] = UInt8((riff >> (8 * UInt32(index))) & 0xFF) }
        return bytes
    }

    /// The offset of an Ogg stream's last page.
    static func lastPage(_ bytes: [UInt8]) -> Int? {
        var offset = 0
        var last: Int?
        while offset + 27 <= bytes.count, bytes[offset..<offset + 4].elementsEqual(Array("OggS".utf8)) {
            last = offset
            let segments = Int(bytes[offset + 26])
            let body = bytes[(offset + 27)..<(offset + 27 + segments)].reduce(0) { $0 + Int($1) }
            offset += 27 + segments + body
        }
        return last
    }

    /// Ogg's CRC-32 written into the page at `page` (polynomial 0x04C11DB7, not reflected).
    static func fixCRC(_ bytes: inout [UInt8], page: Int) {
        let segments = Int(bytes[page + 26])
        let end = page + 27 + segments + bytes[(page + 27)..<(page + 27 + segments)].reduce(0) { $0 + Int($1) }
        for index in 22..<26 { bytes[page + index] = 0 }
        var crc: UInt32 = 0
        for byte in bytes[page..<end] {
            crc ^= UInt32(byte) << 24
            for _ in 0..<8 { crc = crc & 0x8000_0000 != 0 ? (crc << 1) ^ 0x04C1_1DB7 : crc << 1 }
        }
        for index in 0..<4 { bytes[page + 22 + index] = UInt8((crc >> (8 * UInt32(index))) & 0xFF) }
    }

    /// Several recordings of one new call at once (each leg's, as a phone system sends them): all kept.
    @Test func recordingsOfOneNewCallArrivingTogetherAreAllKept() async throws {
        let files = try Recordings()
        let wav = try files.bytes("mulaw.wav")
        try await withAPI { api, collector, password in
            try await api.logIn(password)
            let token = try #require(
                try await api.send(.post, "/api/v1/admin/integrations", json: #"{"name":"pbx"}"#).json["token"] as? String)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for leg in 0..<6 {
                    var body = wav
                    body.append(UInt8(leg))  // a different file per leg (a byte after the RIFF's end)
                    group.addTask { try await Self.put(api, token, "/api/v1/voice/new-call/leg-\(leg)", body).status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 201, count: 6), "six small recordings fit in memory at once: \(statuses)")
            #expect(!statuses.contains(409), "no leg lost to the race that makes the call's collection: \(statuses)")
            #expect(try await collector.voice.list(interactionId: "new-call").count == statuses.filter { $0 == 201 }.count)
        }
    }

    @Test func brokenTruncatedMislabelledAndUnsupportedFilesAreRefusedWithTheProblemNamed() async throws {
        let files = try Recordings()
        try await withAPI { api, collector, password in
            try await api.logIn(password)
            let created = try await api.send(.post, "/api/v1/admin/integrations", json: #"{"name":"pbx"}"#)
            let token = try #require(created.json["token"] as? String)
            let wav = try files.bytes("speech.wav")
            let opus = try files.bytes("speech.opus")
            var flipped = opus
            flipped[opus.count / 2] ^= 0x40
            var lying = wav
            lying[32] = 7  // the block alignment no longer matches 16-bit mono
            // A forged last page: a granule position of 2^62 (with a CRC that matches), which must not
            // overflow into a crash.
            var forged = opus
            let last = try #require(Self.lastPage(forged))
            for index in 0..<8 { forged[last + 6 + index] = index == 7 ? 0x40 : 0 }
            Self.fixCRC(&forged, page: last)
            let cases: [(String, [UInt8], String?, [String: String], Int, String)] = [
                ("a granule from another age", forged, "audio/ogg", [:], 422, "more than a day of audio"),
                ("two data chunks", Self.withSecondDataChunk(wav), "audio/wav", [:], 422, "a WAV with two data chunks"),
                ("start in 1970", wav, "audio/wav", ["X-Voice-Start": "1970-01-01T00:00:00Z"], 400, "between 2000 and 2099"),
                ("truncated WAV", Array(wav.prefix(wav.count - 1000)), "audio/wav", [:], 422, "truncated WAV"),
                ("WAV header only", Array(wav.prefix(44)), "audio/wav", [:], 422, "truncated WAV"),
                ("self-contradicting header", lying, "audio/wav", [:], 422, "contradicts itself"),
                ("Ogg labelled WAV", opus, "audio/wav", [:], 422, "Content-Type says audio/wav, but the body is Ogg/Opus"),
                ("truncated Ogg", Array(opus.prefix(opus.count - 200)), "audio/ogg", [:], 422, "truncated Ogg"),
                ("damaged Ogg page", flipped, "audio/ogg", [:], 422, "fails its CRC"),
                ("MP3", try files.bytes("speech.mp3"), "audio/mpeg", [:], 415, "MP3"),
                ("8-bit PCM", try files.bytes("pcm8.wav"), "audio/wav", [:], 415, "8-bit PCM"),
                ("not audio", Array("hello, this is not audio at all".utf8), nil, [:], 422, "neither WAV (RIFF) nor Ogg"),
                ("empty", [], "audio/wav", [:], 422, "the body is empty"),
                ("a text label", wav, "text/plain", [:], 415, "Content-Type text/plain is not taken"),
                ("no start", wav, "audio/wav", ["X-Voice-Start": ""], 400, "X-Voice-Start"),
                ("start without a zone", wav, "audio/wav", ["X-Voice-Start": "2026-11-23T12:00:00"], 400, "X-Voice-Start must be an RFC 3339 time"),
                ("bad direction", wav, "audio/wav", ["X-Voice-Direction": "sideways"], 400, "X-Voice-Direction must be"),
                ("layout for two channels of a mono file", wav, "audio/wav", ["X-Voice-Channels": "agent,customer"], 400, "the file has 1"),
                ("unknown role", wav, "audio/wav", ["X-Voice-Channels": "supervisor"], 400, "X-Voice-Channels names one role"),
                ("control character", wav, "audio/wav", ["X-Voice-Agent": "agent\u{202E}7"], 400, "X-Voice-Agent holds the control or invisible character U+202E"),
            ]
            for (what, body, type, extra, status, message) in cases {
                var headers = ["X-Voice-Start": "2026-11-23T12:00:00.250Z"]
                headers.merge(extra) { $1 }
                if headers["X-Voice-Start"] == "" { headers["X-Voice-Start"] = nil }
                let reply = try await Self.put(api, token, "/api/v1/voice/call-bad/leg-1", body, contentType: type, headers: headers)
                #expect(reply.status == status && reply.errorMessage.contains(message), "\(what): \(reply.status) \(reply.json)")
            }
            let anonymous = try await Self.put(api, "rci_not-a-token", "/api/v1/voice/call-bad/leg-1", wav)
            #expect(anonymous.status == 401)
            #expect(try await collector.voice.list(interactionId: "call-bad").isEmpty, "nothing refused is catalogued")
            let stored = (FileManager.default.enumerator(atPath: collector.dataDirectory.appendingPathComponent("store").path)?
                .allObjects as? [String] ?? []).filter { $0.contains("voice") }
            #expect(stored.isEmpty, "nor stored: \(stored)")

            // A recording hours away from the call it names (a phone system's wrong clock) would stretch
            // its timeline and export by as much: refused, with both times; one near the call goes in.
            let integration = try #require(try await collector.integrations.list().first { $0.name == "pbx" })
            let started =
                #"{"event_id":"n1","type":"leg.started","occurred_at":"2026-11-23T12:00:00Z","interaction_id":"call-near","leg_id":"leg-1"}"#
            let ended =
                #"{"event_id":"n2","type":"leg.ended","occurred_at":"2026-11-23T12:05:00Z","interaction_id":"call-near","leg_id":"leg-1"}"#
            for event in [started, ended] {
                _ = try await collector.callEvents.accept(Data(event.utf8), from: integration, source: "test")
            }
            let far = try await Self.put(
                api, token, "/api/v1/voice/call-near/leg-1", wav, headers: ["X-Voice-Start": "2026-11-23T17:00:00Z"])
            #expect(
                far.status == 422 && far.errorMessage.contains("more than an hour away from call call-near")
                    && far.errorMessage.contains("X-Voice-Start"), "\(far.status) \(far.json)")
            let near = try await Self.put(
                api, token, "/api/v1/voice/call-near/leg-1", wav, headers: ["X-Voice-Start": "2026-11-23T12:00:01Z"])
            #expect(near.status == 201, "\(near.status) \(near.json)")
            // One that arrived before its call was known is set aside when the call comes, not placed
            // six years off on its clock.
            let early = try await Self.put(
                api, token, "/api/v1/voice/call-early/leg-1", wav, headers: ["X-Voice-Start": "2020-01-01T00:00:00Z"])
            #expect(early.status == 201)
            let begun =
                #"{"event_id":"x1","type":"leg.started","occurred_at":"2026-11-23T12:00:00Z","interaction_id":"call-early","leg_id":"leg-1"}"#
            _ = try await collector.callEvents.accept(Data(begun.utf8), from: integration, source: "test")
            let timeline = try #require(try await collector.timeline("call-early"))
            #expect(timeline.voice.isEmpty, "\(timeline.voice)")
            #expect(timeline.setAside.map(\.id) == [try #require(early.json["id"] as? String)])
            #expect(timeline.setAside.first?.reason.contains("check the phone system's clock") == true)

            // A call known only by its end is measured from its end: earlier and earlier recordings must
            // not each pass and stretch it back an hour at a time.
            let onlyEnd =
                #"{"event_id":"e1","type":"leg.ended","occurred_at":"2026-11-23T12:05:00Z","interaction_id":"call-end","leg_id":"leg-1"}"#
            _ = try await collector.callEvents.accept(Data(onlyEnd.utf8), from: integration, source: "test")
            var refused: [String] = []
            for start in ["2026-11-23T10:30:00Z", "2026-11-23T09:30:00Z", "2026-11-23T08:30:00Z"] {
                let reply = try await Self.put(api, token, "/api/v1/voice/call-end/leg-1", wav, headers: ["X-Voice-Start": start])
                if reply.status == 422 { refused.append(start) } else { #expect(reply.status == 201, "\(start): \(reply.json)") }
            }
            #expect(refused == ["2026-11-23T10:30:00Z", "2026-11-23T09:30:00Z", "2026-11-23T08:30:00Z"], "\(refused)")
            // Voices that came before the end event are set aside, and the call starts where its near media do.
            let lateEnd = try await Self.put(
                api, token, "/api/v1/voice/call-late/leg-1", wav, headers: ["X-Voice-Start": "2026-11-23T12:04:00Z"])
            var otherSound = wav
            otherSound[wav.count - 2] ^= 1
            let stretched = try await Self.put(
                api, token, "/api/v1/voice/call-late/leg-1", otherSound, headers: ["X-Voice-Start": "2026-11-23T09:00:00Z"])
            #expect(lateEnd.status == 201 && stretched.status == 201)
            let lateEnded =
                #"{"event_id":"l1","type":"leg.ended","occurred_at":"2026-11-23T12:05:00Z","interaction_id":"call-late","leg_id":"leg-1"}"#
            _ = try await collector.callEvents.accept(Data(lateEnded.utf8), from: integration, source: "test")
            let late = try #require(try await collector.timeline("call-late"))
            #expect(late.setAside.map(\.id) == [try #require(stretched.json["id"] as? String)], "\(late.setAside)")
            #expect(late.startedAt == "2026-11-23T12:04:00.000Z" && late.voice.count == 1, "\(late.startedAt) \(late.voice)")
        }
    }
}
