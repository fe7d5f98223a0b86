import Foundation
import Synchronization

/// Bytes the built-in store holds under each node path that has a quota: its files and their dead
/// properties. Measured once by walking the node path's directory (lstat, symlinks not followed, on
/// the thread pool) and summing its properties the first time a write needs it, then kept current by
/// the store's own writes, deletions, moves, copies and PROPPATCHes, so a PUT costs no walk. Writes
/// running at the same moment are each checked against the usage before them: a node path can
/// overshoot its quota by at most the uploads in flight.
final class StoreUsage: Sendable {
    let store: BuiltinStore
    let catalog: Catalog
    private let measured = Mutex<[String: Int64]>([:])

    init(store: BuiltinStore, catalog: Catalog) {
        self.store = store
        self.catalog = catalog
    }

    /// Bytes under `nodePath` (`/` is the whole store).
    func bytes(under nodePath: String) async throws -> Int64 {
        if let known = measured.withLock({ $0[nodePath] }) { return known }
        let path = StorePath(components: StoreUsage.components(nodePath))
        let store = self.store
        let files = try await BuiltinStore.blocking { store.treeSize(path) }
        let total = try await files + DeadProperties(catalog: catalog).bytes(path)
        return measured.withLock { cache in
            if let raced = cache[nodePath] { return raced }
            cache[nodePath] = total
            return total
        }
    }

    /// Records that the bytes at `path` changed by `delta`.
    func adjust(_ path: StorePath, by delta: Int64) {
        guard delta != 0 else { return }
        measured.withLock { cache in
            for (nodePath, bytes) in cache where StoreUsage.covers(nodePath, path) {
                cache[nodePath] = max(0, bytes + delta)
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

    /// Size of a file, or of everything under a directory; 0 when missing. Uploads in flight (the
    /// store's temporary files) are left out: their bytes are counted when they take their name.
    static func treeSize(_ url: URL) -> Int64 {
        var info = stat()
        guard lstat(url.path, &info) == 0 else { return 0 }
        if (info.st_mode & S_IFMT) == S_IFREG { return Int64(info.st_size) }
        guard (info.st_mode & S_IFMT) == S_IFDIR,
            let names = try? FileManager.default.contentsOfDirectory(atPath: url.path)
        else { return 0 }
        return names.filter { !$0.hasPrefix(BuiltinStore.temporaryPrefix) }.reduce(0) {
            $0 + treeSize(url.appendingPathComponent($1))
        }
    }
}
