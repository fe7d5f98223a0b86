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
    let audit = RecentAudit(action: "call.play")

    func register(on router: Router<CollectorContext>) {
        let calls = router.group("api/v1/calls").add(
            middleware: SessionAuthentication(collector: collector, roles: Set(Users.Role.allCases)))
        calls.get(":interaction/screen/:agent/:sequence") { request, context in
            let interaction = try CallAPI.interaction(context)
            let agent = try context.parameters.require("agent")
            guard let sequence = Int(try context.parameters.require("sequence")), sequence >= 0 else {
                throw CollectorError(.invalid, "the segment's sequence is a whole number")
            }
            let media = try await Self.hidden(context, interaction) {
                try await collector.screenMedia(
                    interaction, integration: Self.integration(request), agentId: agent, sequence: sequence, for: context.access)
            }
            try await audit.record("call:\(media.callIntegration)/\(interaction)", detail: "from screen \(agent) #\(sequence)", context: context, collector: collector)
            return try Self.answer(media, request, pace: context.pace)
        }
        registerIdle(on: calls)
        calls.get(":interaction/voice/:voice/audio") { request, context in
            let interaction = try CallAPI.interaction(context)
            let voice = try context.parameters.require("voice")
            let media = try await Self.hidden(context, interaction) {
                try await collector.voiceMedia(interaction, integration: Self.integration(request), voiceId: voice, for: context.access)
            }
            try await audit.record("call:\(media.callIntegration)/\(interaction)", detail: "from voice \(voice)", context: context, collector: collector)
            return try Self.answer(media, request, pace: context.pace)
        }
    }

    /// The stretches where nothing happens (every voice silent, no screen change), for "skip idle".
    /// One at a time (it reads every recording of the call), each answer kept ten minutes per reach.
    func registerIdle(on calls: RouterGroup<CollectorContext>) {
        let turn = HeavyRequests("idle stretches")
        let answers = RecentAnswers<IdleStretches>(budget: 1000) { _ in 1 }
        calls.get(":interaction/idle") { request, context in
            let minimum = try CallAPI.wholeNumber(request, "min_ms", default: 3000, range: 1000...600_000, meaning: "the shortest stretch skipped")
            let interaction = try CallAPI.interaction(context)
            // Found once per call and reach at the shortest length asked for (1 s), then cut to the
            // length this request wants: asking with many lengths costs one search, not one each.
            let key = "\(context.access.fingerprint)\u{0}\(Self.integration(request) ?? "")\u{0}\(interaction)"
            var idle: IdleStretches
            if let kept = answers.get(key) {
                idle = kept
            } else {
                idle = try await Self.hidden(context, interaction) {
                    try await turn.run(for: context.actor.name, stillWanted: { context.pace.isConnected }) {
                        try await collector.idleStretches(
                            interaction, integration: Self.integration(request), for: context.access, minimumMs: 1000)
                    }
                }
                answers.put(key, idle)
                // Reading a call's recordings for their silences is a use of them, audited like playing.
                try await audit.record("call:\(idle.integration)/\(interaction)", detail: "idle stretches", context: context, collector: collector)
            }
            idle.stretches.removeAll { $0.toMs - $0.fromMs < minimum }
            idle.minimumMs = minimum
            return idle
        }
    }

    /// An id two integrations share is, to a non-admin, no call (as for the timeline and reviews).
    static func hidden<T>(_ context: CollectorContext, _ interaction: String, _ body: () async throws -> T) async throws -> T {
        guard let found = try await CallAPI.hidingOthers(context, interaction, { try await body() as T? }) else {
            throw CallAPI.noCall(interaction)
        }
        return found
    }

    static func integration(_ request: Request) -> String? {
        request.uri.queryParameters["integration"].map(String.init)
    }

    /// The whole file, or the one range asked for (206), or 416 for a range past its end.
    static func answer(_ media: PlaybackMedia, _ request: Request, pace: ConnectionPace) throws -> Response {
        let size = Int64(media.size)
        var headers: HTTPFields = [
            .contentType: media.contentType, .acceptRanges: "bytes", .cacheControl: "no-store",
            .contentDisposition: "inline; filename=\"\(media.fileName)\"",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        ]
        switch StoreResponses.rangeAnswer(request.headers[.range], ifRange: nil, lastModified: "", size: size) {
        case .whole:
            headers[.contentLength] = String(size)
            return Response(status: .ok, headers: headers, body: streamed(media, 0..<media.size, pace: pace))
        case .part(let range):
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(size)"
            headers[.contentLength] = String(range.count)
            return Response(status: .partialContent, headers: headers, body: streamed(media, Int(range.lowerBound)..<Int(range.upperBound), pace: pace))
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(size)"
            headers[.contentType] = "application/json"
            let body = #"{"error":{"code":"range_not_satisfiable","message":"the range is past the end of the \#(size)-byte recording"}}"#
            return Response(status: .rangeNotSatisfiable, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
        }
    }
}

extension PlaybackAPI {
    /// Bytes in flight per answer: the media stays in memory once (the cache's), and each reader,
    /// however slow, holds about one chunk of it at a time (`ConnectionPace` waits for the client).
    /// Before, slow parallel readers of a large recording each had their whole range queued.
    static let chunkBytes = 256 << 10

    static func streamed(_ media: PlaybackMedia, _ range: Range<Int>, pace: ConnectionPace) -> ResponseBody {
        ResponseBody(contentLength: range.count) { writer in
            var offset = range.lowerBound
            while offset < range.upperBound {
                let end = min(range.upperBound, offset + chunkBytes)
                try await pace.writable()
                try await writer.write(ByteBuffer(bytes: try media.slice(offset..<end)))
                offset = end
            }
            try await writer.finish(nil)
        }
    }
}

/// One audit entry per user, call and ten minutes of `action`: a player reads many ranges, and the
/// page reads a call's timeline again on every visit.
final class RecentAudit: Sendable {
    let action: String
    private let recent = Mutex<[String: Date]>([:])
    static let window: TimeInterval = 600

    init(action: String) { self.action = action }

    func record(_ target: String, detail: String, context: CollectorContext, collector: Collector) async throws {
        let key = "\(context.user?.id ?? "")\u{0}\(target)"
        let now = Date()
        let fresh = recent.withLock { recent -> Bool in
            if recent.count > 10_000 { recent = recent.filter { now.timeIntervalSince($0.value) < Self.window } }
            if let last = recent[key], now.timeIntervalSince(last) < Self.window { return false }
            recent[key] = now
            return true
        }
        guard fresh else { return }
        try await AuditLog.record(action, target: target, detail: detail, by: context.actor, in: collector.catalog)
    }
}

extension IdleStretches: ResponseEncodable {}
