import CollectorCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TestSupport
import TestTraits
import Testing

/// Voice dropped over WebDAV: the phone system's recorder PUTs media and a sidecar into its own area
/// of the built-in store; the collector picks each pair up once, deletes the originals, and keeps
/// what it cannot catalogue sealed in `refused/` with the reason.
@Suite(.serialized, .realTime)
struct VoiceDropTests {
    static func dav(
        _ api: Session, _ method: HTTPRequest.Method, _ path: String, user: String, password: String, body: [UInt8] = []
    ) async throws -> Int {
        let basic = Data("\(user):\(password)".utf8).base64EncodedString()
        return try await api.client.execute(
            uri: "/dav/" + path, method: method, headers: [.authorization: "Basic \(basic)"],
            body: ByteBuffer(bytes: body)
        ) { Int($0.status.code) }
    }

    static func sidecar(_ media: String, call: String) -> [UInt8] {
        Array(
            #"{"version":1,"media":"\#(media)","interaction_id":"\#(call)","leg_id":"leg-1","started_at":"2026-12-01T10:00:00.000Z","agent_id":"agent-7","channels":["mixed"]}"#
                .utf8)
    }

    @Test func droppedPairsArePickedUpOnceAndWhatCannotBeCataloguedIsKeptSealedWithTheReason() async throws {
        let wav = try VoiceIngestTests.Recordings().bytes("mulaw.wav")
        try await withAPI { api, collector, _ in
            let (_, token) = try await collector.integrations.create(name: "pbx", kind: .webhook, by: adminActor)
            let (_, otherToken) = try await collector.integrations.create(name: "other", kind: .webhook, by: adminActor)
            func put(_ path: String, _ body: [UInt8], method: HTTPRequest.Method = .put) async throws -> Int {
                try await Self.dav(api, method, path, user: "pbx", password: token, body: body)
            }
            #expect(try await put("voice-drop", [], method: .init("MKCOL")!) == 201)
            #expect(try await put("voice-drop/pbx", [], method: .init("MKCOL")!) == 201)
            #expect(try await put("voice-drop/pbx/call-5.wav", wav) == 201)
            #expect(try await put("voice-drop/pbx/call-5.voice.json", Self.sidecar("call-5.wav", call: "call-5")) == 201)
            // A Genesys recorder's directory: the media, then its recording.json.
            #expect(try await put("voice-drop/pbx/rec-1", [], method: .init("MKCOL")!) == 201)
            #expect(try await put("voice-drop/pbx/rec-1/part1.wav", wav + [0]) == 201)
            let gir =
                #"{"id":"rec-1","mediaFiles":[{"mediaId":"part1.wav","callUUID":"gir-1","startTime":"2026-12-01T10:00:00.000+0000","parameters":{"connId":"c-1"}}]}"#
            #expect(try await put("voice-drop/pbx/rec-1/recording.json", Array(gir.utf8)) == 201)
            // A broken file, and a sidecar whose media is still on its way.
            #expect(try await put("voice-drop/pbx/bad.wav", Array(wav.prefix(200))) == 201)
            #expect(try await put("voice-drop/pbx/bad.voice.json", Self.sidecar("bad.wav", call: "call-6")) == 201)
            #expect(try await put("voice-drop/pbx/later.voice.json", Self.sidecar("later.wav", call: "call-7")) == 201)
            // A sidecar with a key nobody knows: refused, and the media it names goes with it, sealed.
            #expect(try await put("voice-drop/pbx/odd.wav", wav) == 201)
            var odd = Self.sidecar("odd.wav", call: "call-8")
            odd.removeLast()
            #expect(try await put("voice-drop/pbx/odd.voice.json", odd + Array(#","evil":1}"#.utf8)) == 201)

            // A "sidecar" of 2 MiB: refused unread, and not copied into refused/.
            #expect(try await put("voice-drop/pbx/huge.voice.json", Array(repeating: 0x20, count: 2 << 20)) == 201)

            // Its own area only; and a stranger nothing.
            #expect(try await put("voice-drop/other/x.wav", wav) == 403)
            #expect(try await put("demo/x.wav", wav) == 403)
            #expect(try await Self.dav(api, .put, "voice-drop/pbx/y.wav", user: "pbx", password: "rci_wrong", body: wav) == 401)

            let pass = try await collector.pickUpVoiceDrops()
            #expect(Set(pass.imported.map(\.interactionId)) == ["call-5", "gir-1"], "\(pass.imported.map(\.interactionId))")
            #expect(pass.imported.allSatisfy { $0.deliveredBy == "drop" })
            #expect(pass.refused.count == 3 && pass.refused.contains { $0.message.contains("truncated WAV") }, "\(pass.refused)")
            #expect(pass.refused.contains { $0.message.contains("a sidecar is at most 1048576") }, "\(pass.refused)")
            #expect(pass.refused.contains { $0.file.hasSuffix("odd.wav") && $0.message.contains("evil") }, "\(pass.refused)")
            #expect(pass.waiting == 1)
            // Each phone system's area is made for it: a recorder that never MKCOLs its root can drop.
            #expect(
                try await Self.dav(api, .put, "voice-drop/other/first.wav", user: "other", password: otherToken, body: wav) == 201)

            let store = collector.dataDirectory.appendingPathComponent("store/voice-drop/pbx").path
            let left = (FileManager.default.enumerator(atPath: store)?.allObjects as? [String] ?? []).sorted()
            #expect(!left.contains("call-5.wav") && !left.contains("call-5.voice.json") && !left.contains("rec-1/part1.wav"), "\(left)")
            #expect(!left.contains("bad.wav") && left.contains("later.voice.json"), "\(left)")
            #expect(!left.contains("odd.wav") && left.contains { $0.hasPrefix("refused/") && $0.hasSuffix("odd.wav.p7m") }, "\(left)")
            #expect(!left.contains("huge.voice.json") && !left.contains { $0.hasSuffix("-huge.voice.json") }, "\(left)")
            let refused = left.filter { $0.hasPrefix("refused/") }
            let sealed = try #require(refused.first { $0.hasSuffix("bad.wav.p7m") }, "\(refused)")
            let bytes = try #require(FileManager.default.contents(atPath: "\(store)/\(sealed)"))
            #expect(!bytes.starts(with: Array("RIFF".utf8)), "the refused media is kept sealed, not in clear")
            let reason = try #require(refused.first { $0.hasSuffix("bad.wav.error.txt") })
            #expect(try String(contentsOfFile: "\(store)/\(reason)", encoding: .utf8).contains("truncated WAV"))

            // Nothing twice; and a pair found again after a restart that came between cataloguing it and
            // deleting it is recognised.
            #expect(try await collector.pickUpVoiceDrops().imported.isEmpty)
            #expect(try await put("voice-drop/pbx/call-5.wav", wav) == 201)
            #expect(try await put("voice-drop/pbx/call-5.voice.json", Self.sidecar("call-5.wav", call: "call-5")) == 201)
            let again = try await collector.pickUpVoiceDrops()
            #expect(again.imported.count == 1 && again.imported[0].id == pass.imported.first { $0.interactionId == "call-5" }?.id)
            #expect(try await collector.voice.list(interactionId: "call-5").count == 1)
            #expect(!FileManager.default.fileExists(atPath: "\(store)/call-5.wav"))
        }
    }
}
