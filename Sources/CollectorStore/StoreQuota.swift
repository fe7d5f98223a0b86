import CollectorCore
import Foundation
import Hummingbird
import RecorderCore
import Synchronization
import WebDAV

/// Node-path quotas of the built-in store: how many more bytes a write may add under the tightest
/// quota that covers it, and the 507 answers that say which quota or disk is full and how to fix it.
struct StoreQuota: Sendable {
    let collector: Collector
    let usage: StoreUsage

    struct Room: Sendable {
        var nodePath: String
        var quota: Int64
        var used: Int64
        /// Of `used`: bytes of writes still under way.
        var inFlight: Int64 = 0
        var room: Int64
    }

    /// A write's claim on the quotas that cover `path`, grown as its bytes arrive and released when
    /// it ends (after `StoreUsage.adjust` has counted what it stored).
    /// `freed`: bytes the write replaces. `alreadyCounted`: a move's source; a quota holding it
    /// already gains nothing from the move.
    func reservation(for path: StorePath, freed: Int64 = 0, alreadyCounted: StorePath? = nil) async throws
        -> Reservation
    {
        var limits: [StoreUsage.Limit] = []
        for (nodePath, bytes) in try await collector.nodePaths.quotas() where StoreUsage.covers(nodePath, path) {
            if let alreadyCounted, StoreUsage.covers(nodePath, alreadyCounted) { continue }
            _ = try await usage.bytes(under: nodePath)
            limits.append(.init(nodePath: nodePath, bytes: bytes))
        }
        return Reservation(usage: usage, limits: limits, freed: freed)
    }

    /// Thrown by `Reservation.grow` when a quota has no room for the bytes.
    struct Exceeded: Error {
        let room: Room
    }

    final class Reservation: Sendable {
        private let usage: StoreUsage
        private let limits: [StoreUsage.Limit]
        private let freed: Int64
        private let held = Mutex<Int64>(0)

        fileprivate init(usage: StoreUsage, limits: [StoreUsage.Limit], freed: Int64) {
            self.usage = usage
            self.limits = limits
            self.freed = freed
        }

        /// Claims room for `total` bytes in all (never less than already claimed).
        func grow(to total: Int64) throws(Exceeded) {
            guard !limits.isEmpty else { return }
            let failed: Room? = held.withLock { held in
                guard total > held else { return nil }
                if let full = usage.reserve(total - held, under: limits, freed: freed) {
                    return full
                }
                held = total
                return nil
            }
            if let failed { throw Exceeded(room: failed) }
        }

        func release() {
            let bytes = held.withLock { held in
                defer { held = 0 }
                return held
            }
            usage.release(bytes, under: limits)
        }
    }

    static func exceeded(_ room: Room) -> StoreError {
        let megabytes = { (bytes: Int64) in String(format: "%.1f", Double(bytes) / 1_048_576) }
        return StoreError(
            .quotaExceeded,
            "node path \(room.nodePath) is at its quota: \(megabytes(room.used)) of \(megabytes(room.quota)) MB used\(room.inFlight > 0 ? " (\(megabytes(room.inFlight)) MB of it by uploads under way)" : ""); an admin must raise it (recorder-collector admin node-path set \(room.nodePath) --quota-mb N) or free space"
        )
    }

    static func insufficientStorage() -> StoreError {
        StoreError(.full, "the collector's store is full; an admin must free space or add storage")
    }
}
