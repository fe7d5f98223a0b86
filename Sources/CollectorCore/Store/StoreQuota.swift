import Foundation
import Hummingbird

/// Node-path quotas of the built-in store: how many more bytes a write may add under the tightest
/// quota that covers it, and the 507 answers that say which quota or disk is full and how to fix it.
struct StoreQuota: Sendable {
    let collector: Collector
    let usage: StoreUsage

    struct Room {
        var nodePath: String
        var quota: Int64
        var used: Int64
        var room: Int64
    }

    /// The tightest quota among the node paths whose directory holds `path`: how many more bytes may
    /// go there (counting `freed` bytes the write replaces), or nil when no quota applies.
    /// `alreadyCounted`: a move's source; a quota holding it already gains nothing from the move.
    func room(for path: StorePath, freed: Int64 = 0, alreadyCounted: StorePath? = nil) async throws -> Room? {
        var tightest: Room?
        for (nodePath, bytes) in try await collector.nodePaths.quotas() where StoreUsage.covers(nodePath, path) {
            if let alreadyCounted, StoreUsage.covers(nodePath, alreadyCounted) { continue }
            let used = try await usage.bytes(under: nodePath)
            let room = bytes - used + freed
            if tightest.map({ room < $0.room }) ?? true {
                tightest = Room(nodePath: nodePath, quota: bytes, used: used, room: max(0, room))
            }
        }
        return tightest
    }

    static func exceeded(_ room: Room) -> Response {
        let megabytes = { (bytes: Int64) in String(format: "%.1f", Double(bytes) / 1_048_576) }
        return JSONErrorMiddleware.response(
            .init(code: 507, reasonPhrase: "Insufficient Storage"), "quota_exceeded",
            "node path \(room.nodePath) is at its quota: \(megabytes(room.used)) of \(megabytes(room.quota)) MB used; an admin must raise it (recorder-collector admin node-path set \(room.nodePath) --quota-mb N) or free space"
        )
    }

    static func insufficientStorage() -> Response {
        JSONErrorMiddleware.response(
            .init(code: 507, reasonPhrase: "Insufficient Storage"), "insufficient_storage",
            "the collector's store is full; an admin must free space or add storage")
    }
}
