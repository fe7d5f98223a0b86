import CollectorCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RecorderCore
import TestSupport
import TestTraits
import Testing

/// A call exported as one WebM file and checked with ffprobe and ffmpeg, as a person receiving it
/// would play it: two streams (VP8 and Opus), the call's length, the screen's colours at their moments
/// with the placeholder card in the PCI pause, and the voice's tone starting where it did in the call,
/// so screen and voice line up. Audited with the file's SHA-256; out of reach, 404.
@Suite(.serialized, .realTime)
struct ExportTests {
    /// The voice: silent but for a tone from 3 s to 4 s (a moment to find in the export's audio).
    static let voice = [
        "-v", "error", "-f", "lavfi", "-i", "aevalsrc=0.5*sin(2*PI*440*t)*between(t\\,3\\,4):s=8000:d=10",
        "-ac", "1", "-ar", "8000", "-c:a", "pcm_s16le",
    ]

    @Test func theWholeCallIsOneWebMWithScreenAndVoiceInSync() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withAPI { api, collector, _ in
            try await WebAppTests.call(collector, directory: directory, voice: Self.voice)
            try await RolesAndSessionsTests.logIn(api, "qa-paris", "correct horse battery")
            var headers: HTTPFields = [.authorization: "Bearer \(api.token!)"]
            let (status, body, answer) = try await api.client.execute(uri: "/api/v1/calls/call-1/export", method: .get, headers: headers) {
                (Int($0.status.code), [UInt8](Data(buffer: $0.body)), $0.headers)
            }
            #expect(status == 200, "\(String(decoding: body.prefix(600), as: UTF8.self))")
            let disposition = answer[.contentDisposition] ?? ""
            #expect(disposition == "attachment; filename=\"call-1_20261201T100000Z.webm\"", "\(disposition)")
            let file = "\(directory)/export.webm"
            try Data(body).write(to: URL(fileURLWithPath: file))

            let probe = try VoiceIngestTests.tool(
                "ffprobe", ["-v", "error", "-show_entries", "stream=codec_name,start_time:format=duration", "-of", "json", file])
            let json = try #require(try JSONSerialization.jsonObject(with: Data(probe.utf8)) as? [String: Any])
            let streams = try #require(json["streams"] as? [[String: Any]])
            #expect(streams.compactMap { $0["codec_name"] as? String } == ["vp8", "opus"], "\(probe)")
            let duration = Double(((json["format"] as? [String: Any])?["duration"] as? String) ?? "") ?? 0
            #expect(abs(duration - 10) < 0.1, "the export lasts \(duration) s, the call 10 s")
            let starts = streams.compactMap { ($0["start_time"] as? String).flatMap(Double.init) }
            #expect(starts.count == 2 && abs(starts[0] - starts[1]) <= 0.02, "streams start at \(starts)")

            // The screen at known moments, decoded from the file: the colours, and the card in the pause.
            for (second, expected) in [(1.0, "red"), (3.0, "green"), (5.0, "card"), (7.5, "blue")] {
                _ = try VoiceIngestTests.tool(
                    "ffmpeg", ["-v", "error", "-ss", String(second), "-i", file, "-frames:v", "1", "-vf", "crop=2:2:4:4",
                        "-f", "rawvideo", "-pix_fmt", "rgb24", "-y", "\(directory)/frame.rgb"])
                let pixel = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(directory)/frame.rgb")).prefix(3))
                #expect(Self.colour(pixel) == expected, "at \(second) s: \(pixel), expected \(expected)")
            }
            // The voice's tone begins at 3 s in the export as in the call (within 20 ms).
            let silence = try ProcessRunner.run(
                "ffmpeg", ["-v", "info", "-i", file, "-map", "0:a", "-af", "silencedetect=n=-30dB:d=0.5", "-f", "null", "-"])
            let ends = silence.stderr.components(separatedBy: "silence_end: ").dropFirst().compactMap {
                Double($0.prefix { $0 == "." || $0.isNumber })
            }
            #expect(abs((ends.first ?? 0) - 3.0) <= 0.02, "the tone starts at \(ends) s, expected 3.0")

            let entries = try await AuditLog.entries(limit: 20, in: collector.catalog.sql).filter { $0.action == "call.export" }
            let digest = answer[HTTPField.Name("X-Content-SHA256")!] ?? ""
            #expect(entries.count == 1 && entries[0].detail.contains("sha256 \(digest)") && entries[0].actor == "user:qa-paris")
            #expect(digest == ManifestVerification.sha256Hex(Data(body)))
            // The whole file again by a suffix range is a download begun: audited; a resumed one is not.
            for (range, audits) in [("bytes=-99999999", 2), ("bytes=100-", 2), ("bytes= 0-", 3)] {
                var ranged = headers
                ranged[.range] = range
                _ = try await api.client.execute(uri: "/api/v1/calls/call-1/export", method: .get, headers: ranged) { $0.status }
                let count = try await AuditLog.entries(limit: 50, in: collector.catalog.sql).filter { $0.action == "call.export" }.count
                #expect(count == audits, "after \(range): \(count) export entries")
            }

            // Another site: 404, and nothing made.
            try await RolesAndSessionsTests.logIn(api, "qa-lyon", "correct horse battery")
            headers[.authorization] = "Bearer \(api.token!)"
            let other = try await api.client.execute(uri: "/api/v1/calls/call-1/export", method: .get, headers: headers) { Int($0.status.code) }
            #expect(other == 404)
        }
    }

    /// A short call with neither screen nor voice still exports (its card, its length); a call going
    /// on and an agent's request do not.
    @Test func aCallWithoutScreenExportsItsCardAndAgentsAndOpenCallsAreRefused() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withAPI { api, collector, password in
            try await RolesAndSessionsTests.twoSites(collector)
            let pbx = try #require(try await collector.integrations.list().first { $0.name == "pbx" })
            let events = [
                #"{"event_id":"s1","type":"leg.started","occurred_at":"2026-12-01T11:00:00.000Z","interaction_id":"call-short","leg_id":"s","agent_id":"agent-p"}"#,
                #"{"event_id":"s2","type":"leg.ended","occurred_at":"2026-12-01T11:00:00.300Z","interaction_id":"call-short","leg_id":"s"}"#,
            ]
            _ = try await collector.callEvents.accept(Data(#"{"events":[\#(events.joined(separator: ","))]}"#.utf8), from: pbx, source: "test")
            try await api.logIn(password)
            func export(_ call: String) async throws -> (Int, [UInt8]) {
                try await api.client.execute(
                    uri: "/api/v1/calls/\(call)/export", method: .get, headers: [.authorization: "Bearer \(api.token!)"]
                ) { (Int($0.status.code), [UInt8](Data(buffer: $0.body))) }
            }
            let short = try await export("call-short")
            #expect(short.0 == 200, "\(String(decoding: short.1.prefix(300), as: UTF8.self))")
            let file = "\(directory)/short.webm"
            try Data(short.1).write(to: URL(fileURLWithPath: file))
            let probe = try VoiceIngestTests.tool(
                "ffprobe", ["-v", "error", "-show_entries", "stream=codec_name:format=duration", "-of", "csv=p=0", file])
            #expect(probe.contains("vp8") && !probe.contains("opus"), "\(probe)")
            let open = try await export("call-p")
            #expect(open.0 == 409 && String(decoding: open.1, as: UTF8.self).contains("still going on"))
            try await RolesAndSessionsTests.logIn(api, "agent-linked")
            #expect(try await export("call-short").0 == 403)
        }
    }

    /// Idle stretches: where the voice is silent (all but 3–4 s) and the screen does not change (static
    /// colours; the pause has none): 0–3 s and 4–10 s.
    @Test func idleStretchesAreWhereVoiceIsSilentAndTheScreenStill() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("idle-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withAPI { api, collector, _ in
            try await WebAppTests.call(collector, directory: directory, voice: Self.voice)
            try await RolesAndSessionsTests.logIn(api, "qa-paris", "correct horse battery")
            let reply = try await api.send(.get, "/api/v1/calls/call-1/idle?min_ms=2000")
            let stretches = (reply.json["stretches"] as? [[String: Any]] ?? []).map {
                (($0["from_ms"] as? Int) ?? -1, ($0["to_ms"] as? Int) ?? -1)
            }
            #expect(stretches.count == 2, "\(reply.json)")
            if stretches.count == 2 {
                #expect(abs(stretches[0].0 - 0) <= 100 && abs(stretches[0].1 - 3000) <= 100, "\(stretches)")
                #expect(abs(stretches[1].0 - 4000) <= 100 && abs(stretches[1].1 - 10000) <= 100, "\(stretches)")
            }
            // Another length is cut from the same search: the 3 s stretch goes at 4 s, the 6 s one stays.
            let longer = try await api.send(.get, "/api/v1/calls/call-1/idle?min_ms=4000")
            #expect((longer.json["stretches"] as? [[String: Any]])?.count == 1 && longer.json["minimum_ms"] as? Int == 4000, "\(longer.json)")
            let audited = try await AuditLog.entries(limit: 50, in: collector.catalog.sql).filter { $0.detail == "idle stretches" }
            #expect(audited.count == 1, "one search, one audit entry: \(audited)")
            try await RolesAndSessionsTests.logIn(api, "qa-lyon", "correct horse battery")
            #expect(try await api.send(.get, "/api/v1/calls/call-1/idle").status == 404)
        }
    }

    /// The middle pixel's colour as a person would name it; the placeholder card is dark blue-grey.
    static func colour(_ pixel: [UInt8]) -> String {
        guard pixel.count == 3 else { return "none" }
        let (r, g, b) = (Int(pixel[0]), Int(pixel[1]), Int(pixel[2]))
        if r > 150 && g < 90 && b < 90 { return "red" }
        if g > 90 && r < 90 && b < 90 { return "green" }
        if b > 150 && r < 90 && g < 90 { return "blue" }
        if r < 60 && g < 60 && b < 80 && b >= r { return "card" }
        return "\(r),\(g),\(b)"
    }
}
