import CollectorCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RecorderCore
import Synchronization
import WebDAV

/// A call's recordings for the player, opened by the collector (`PlaybackMedia`), with HTTP Range:
///
/// * `GET /api/v1/calls/{interaction}/screen/{agent}/{sequence}`: one screen segment, WebM;
/// * `GET /api/v1/calls/{interaction}/voice/{id}/audio`: one voice recording, WAV or Ogg/Opus.
///
/// Only what the timeline shows the user (`Access`): anything else is 404. Answers are never cached
/// by the browser or a proxy. Playing is audited once per user, call and ten minutes, however many
/// ranges the player reads.
struct PlaybackAPI {
    let collector: Collector
    let audit = PlaybackAudit()

    func register(on router: Router<CollectorContext>) {
        let calls = router.group("api/v1/calls").add(
            middleware: SessionAuthentication(collector: collector, roles: Set(Users.Role.allCases)))
        calls.get(":interaction/screen/:agent/:sequence") { request, context in
            let interaction = try CallAPI.interaction(context)
            let agent = try context.parameters.require("agent")
            guard let sequence = Int(try context.parameters.require("sequence")), sequence >= 0 else {
                throw CollectorError(.invalid, "the segment's sequence is a whole number")
            }
            let media = try await collector.screenMedia(
                interaction, integration: Self.integration(request), agentId: agent, sequence: sequence, for: context.access)
            try await audit.played(interaction, what: "screen \(agent) #\(sequence)", context: context, collector: collector)
            return try Self.answer(media, request)
        }
        calls.get(":interaction/voice/:voice/audio") { request, context in
            let interaction = try CallAPI.interaction(context)
            let voice = try context.parameters.require("voice")
            let media = try await collector.voiceMedia(
                interaction, integration: Self.integration(request), voiceId: voice, for: context.access)
            try await audit.played(interaction, what: "voice \(voice)", context: context, collector: collector)
            return try Self.answer(media, request)
        }
    }

    static func integration(_ request: Request) -> String? {
        request.uri.queryParameters["integration"].map(String.init)
    }

    /// The whole file, or the one range asked for (206), or 416 for a range past its end.
    static func answer(_ media: PlaybackMedia, _ request: Request) throws -> Response {
        let size = Int64(media.size)
        var headers: HTTPFields = [
            .contentType: media.contentType, .acceptRanges: "bytes", .cacheControl: "no-store",
            .contentDisposition: "inline; filename=\"\(media.fileName)\"",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        ]
        switch StoreResponses.rangeAnswer(request.headers[.range], ifRange: nil, lastModified: "", size: size) {
        case .whole:
            headers[.contentLength] = String(size)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: media.slice(0..<media.size))))
        case .part(let range):
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(size)"
            headers[.contentLength] = String(range.count)
            let slice = media.slice(Int(range.lowerBound)..<Int(range.upperBound))
            return Response(status: .partialContent, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: slice)))
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(size)"
            headers[.contentType] = "application/json"
            let body = #"{"error":{"code":"range_not_satisfiable","message":"the range is past the end of the \#(size)-byte recording"}}"#
            return Response(status: .rangeNotSatisfiable, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
        }
    }
}

/// One audit entry per user, call and ten minutes of playing (a player reads many ranges).
final class PlaybackAudit: Sendable {
    private let recent = Mutex<[String: Date]>([:])
    static let window: TimeInterval = 600

    func played(_ interaction: String, what: String, context: CollectorContext, collector: Collector) async throws {
        let key = "\(context.user?.id ?? "")\u{0}\(interaction)"
        let now = Date()
        let fresh = recent.withLock { recent -> Bool in
            if recent.count > 10_000 { recent = recent.filter { now.timeIntervalSince($0.value) < Self.window } }
            if let last = recent[key], now.timeIntervalSince(last) < Self.window { return false }
            recent[key] = now
            return true
        }
        guard fresh else { return }
        try await AuditLog.record("call.play", target: "call:\(interaction)", detail: "from \(what)", by: context.actor, in: collector.catalog)
    }
}
