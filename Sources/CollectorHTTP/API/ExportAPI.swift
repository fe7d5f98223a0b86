import CollectorCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RecorderCore
import Synchronization

/// `GET /api/v1/calls/{interaction}/export`: the whole call as one WebM file (`CallExport`), screen and
/// voice in sync, named after the interaction and its UTC start, as a download. Made once per user
/// and call and kept in memory ten minutes, so a download resumed by ranges reads the same bytes.
/// Every export made and every download begun is audited with the file's SHA-256.
struct ExportAPI {
    let collector: Collector
    let cache = ExportCache()
    /// One export at a time: each runs ffmpeg over the call's voice and holds its screen in memory.
    let turn = AsyncTurn(limit: 1)

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
                export = try await turn.run {
                    if let cached = cache.get(key) { return cached }
                    made = true
                    return try await collector.exportCall(interaction, integration: integration, for: context.access)
                }
                cache.put(key, export)
            }
            let continuing = request.headers[.range].map { !$0.hasPrefix("bytes=0-") } ?? false
            if made || !continuing {
                try await AuditLog.record(
                    "call.export", target: "call:\(call.integration)/\(interaction)",
                    detail: "\(export.fileName), \(export.bytes.count) bytes, sha256 \(export.sha256)\(made ? "" : " (again)")",
                    by: context.actor, in: collector.catalog)
            }
            var response = try PlaybackAPI.answer(
                PlaybackMedia(bytes: export.bytes, contentType: "video/webm", fileName: export.fileName), request)
            response.headers[.contentDisposition] = "attachment; filename=\"\(export.fileName)\""
            response.headers[HTTPField.Name("X-Content-SHA256")!] = export.sha256
            return response
        }
    }
}

/// Recent exports, at most 512 MB and ten minutes old.
final class ExportCache: Sendable {
    private let entries = Mutex<[(key: String, at: Date, export: CallExport)]>([])
    static let lifetime: TimeInterval = 600
    static let budget = 512 << 20

    func get(_ key: String) -> CallExport? {
        entries.withLock { entries in
            entries.removeAll { Date().timeIntervalSince($0.at) > Self.lifetime }
            return entries.first { $0.key == key }?.export
        }
    }

    func put(_ key: String, _ export: CallExport) {
        entries.withLock { entries in
            entries.removeAll { $0.key == key }
            // An export bigger than the whole budget is served once and not kept.
            guard export.bytes.count <= Self.budget else { return }
            entries.append((key, Date(), export))
            while entries.reduce(0, { $0 + $1.export.bytes.count }) > Self.budget { entries.removeFirst() }
        }
    }
}
