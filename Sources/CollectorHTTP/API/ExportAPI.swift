import CollectorCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RecorderCore
import Synchronization
import WebDAV

/// `GET /api/v1/calls/{interaction}/export`: the whole call as one WebM file (`CallExport`), screen and
/// voice in sync, named after the interaction and its UTC start, as a download. Made once per user
/// and call and kept in memory ten minutes, so a download resumed by ranges reads the same bytes.
/// Every export made and every download begun is audited with the file's SHA-256.
struct ExportAPI {
    let collector: Collector
    /// Recent exports, at most 128 MB and ten minutes old: memory that stays taken while they last.
    let cache = RecentAnswers<CallExport>(budget: 128 << 20) { $0.bytes.count }
    /// One export at a time: each runs ffmpeg over the call's voice and holds its screen in memory.
    let turn = HeavyRequests("an export")

    func register(on router: Router<CollectorContext>) {
        let calls = router.group("api/v1/calls").add(
            middleware: SessionAuthentication(collector: collector, roles: Set(Users.Role.allCases)))
        calls.get(":interaction/export") { request, context in
            // Reach first, every time: a cached file is never handed to someone who no longer reaches
            // the call, and an id two integrations share says nothing to a non-admin.
            let call = try await collector.reviewedCall(
                try CallAPI.interaction(context), integration: PlaybackAPI.integration(request), for: context.access)
            let (interaction, integration) = (call.interactionId, Optional(call.integration))
            let key = "\(context.access.fingerprint)\u{0}\(call.integration)\u{0}\(interaction)"
            let export: CallExport
            var made = false
            if let cached = cache.get(key) {
                export = cached
            } else {
                export = try await turn.run(for: context.actor.name, stillWanted: { context.pace.isConnected }) {
                    if let cached = cache.get(key) { return cached }
                    made = true
                    return try await collector.exportCall(interaction, integration: integration, for: context.access)
                }
                cache.put(key, export)
            }
            // A download begun is audited; a resumed one (a range that starts past the first byte) is not
            // again. Read as the answer will be, so `bytes=-N` or a spaced `bytes= 0-` counts as begun.
            let continuing: Bool
            if case .part(let range) = StoreResponses.rangeAnswer(
                request.headers[.range], ifRange: nil, lastModified: "", size: Int64(export.bytes.count))
            {
                continuing = range.lowerBound > 0
            } else {
                continuing = false
            }
            if made || !continuing {
                try await AuditLog.record(
                    "call.export", target: "call:\(call.integration)/\(interaction)",
                    detail: "\(export.fileName), \(export.bytes.count) bytes, sha256 \(export.sha256)\(made ? "" : " (again)")",
                    by: context.actor, in: collector.catalog)
            }
            var response = try PlaybackAPI.answer(
                PlaybackMedia(bytes: export.bytes, contentType: "video/webm", fileName: export.fileName), request, pace: context.pace)
            response.headers[.contentDisposition] = "attachment; filename=\"\(export.fileName)\""
            response.headers[HTTPField.Name("X-Content-SHA256")!] = export.sha256
            return response
        }
    }
}

/// Answers kept for a while: each at most `lifetime` old, all together within `budget` (as `size`
/// counts them), the oldest let go first; one bigger than the whole budget is never kept. Exports
/// (bytes) and idle stretches (one each) use it.
final class RecentAnswers<Value: Sendable>: Sendable {
    private let entries = Mutex<[(key: String, at: Date, value: Value)]>([])
    let lifetime: TimeInterval
    let budget: Int
    let size: @Sendable (Value) -> Int

    init(lifetime: TimeInterval = 600, budget: Int, size: @escaping @Sendable (Value) -> Int) {
        self.lifetime = lifetime
        self.budget = budget
        self.size = size
    }

    func get(_ key: String) -> Value? {
        entries.withLock { entries in
            entries.removeAll { Date().timeIntervalSince($0.at) > lifetime }
            return entries.first { $0.key == key }?.value
        }
    }

    func put(_ key: String, _ value: Value) {
        entries.withLock { entries in
            entries.removeAll { $0.key == key }
            guard size(value) <= budget else { return }
            entries.append((key, Date(), value))
            while entries.reduce(0, { $0 + size($1.value) }) > budget { entries.removeFirst() }
        }
    }
}
