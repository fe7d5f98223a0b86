import CollectorCore
import Foundation
import RecorderCore
import Synchronization
import WebDAV

/// Bytes the built-in store holds under each node path that has a quota: its files and their dead
/// properties. Measured once by walking the node path's directory (lstat, symlinks not followed, on
/// the thread pool) and summing its properties the first time a write needs it, then kept current by
/// the store's own writes, deletions, moves, copies and PROPPATCHes, so a PUT costs no walk. Bytes
/// still streaming in are reserved (`reserve`) and count against the quota with the stored ones, so
/// writes running at the same moment cannot together pass it.
final class StoreUsage: Sendable {
    let store: BuiltinStore
    let catalog: Catalog
    private struct State {
        /// Bytes stored under each measured node path.
        var measured: [String: Int64] = [:]
        /// Bytes reserved by writes in flight under each node path with a quota.
        var reserved: [String: Int64] = [:]
    }
    private let state = Mutex(State())

    init(store: BuiltinStore, catalog: Catalog) {
        self.store = store
        self.catalog = catalog
    }

    /// Bytes under `nodePath` (`/` is the whole store).
    func bytes(under nodePath: String) async throws -> Int64 {
        if let known = state.withLock({ $0.measured[nodePath] }) { return known }
        let path = StorePath(components: StoreUsage.components(nodePath))
        let store = self.store
        let files = try await BuiltinStore.blocking { store.treeSize(path) }
        let total = try await files + DeadProperties(catalog: catalog).bytes(path)
        return state.withLock { state in
            if let raced = state.measured[nodePath] { return raced }
            state.measured[nodePath] = total
            return total
        }
    }

    /// A node path's quota, as a write under it must respect it.
    struct Limit: Sendable {
        var nodePath: String
        var bytes: Int64
    }

    /// Reserves `bytes` more for a write in flight under every node path of `limits` (each already
    /// measured), if each can take them next to what it stores and what others reserved, counting
    /// `freed` bytes the write will replace; otherwise reserves nothing and returns the full quota's
    /// room. One lock for the check and the reservation: two writes cannot both take the last bytes.
    func reserve(_ bytes: Int64, under limits: [Limit], freed: Int64) -> StoreQuota.Room? {
        state.withLock { state in
            for limit in limits {
                let stored = state.measured[limit.nodePath] ?? 0
                let reserved = state.reserved[limit.nodePath] ?? 0
                let used = stored + reserved
                if used + bytes - freed > limit.bytes {
                    return StoreQuota.Room(
                        nodePath: limit.nodePath, quota: limit.bytes, used: used, inFlight: reserved,
                        room: max(0, limit.bytes - used + freed))
                }
            }
            for limit in limits { state.reserved[limit.nodePath, default: 0] += bytes }
            return nil
        }
    }

    /// Returns bytes `reserve` took.
    func release(_ bytes: Int64, under limits: [Limit]) {
        guard bytes != 0 else { return }
        state.withLock { state in
            for limit in limits { state.reserved[limit.nodePath, default: 0] -= bytes }
        }
    }

    /// Records that the bytes at `path` changed by `delta`.
    func adjust(_ path: StorePath, by delta: Int64) {
        guard delta != 0 else { return }
        state.withLock { state in
            for (nodePath, bytes) in state.measured where StoreUsage.covers(nodePath, path) {
                state.measured[nodePath] = max(0, bytes + delta)
            }
        }
    }

    static func components(_ nodePath: String) -> [String] {
        nodePath.split(separator: "/").map(String.init)
    }

    /// Whether `path` lies in node path `nodePath`'s directory (whole components).
    static func covers(_ nodePath: String, _ path: StorePath) -> Bool {
        let prefix = components(nodePath)
        return path.components.count >= prefix.count && Array(path.components.prefix(prefix.count)) == prefix
    }
}
