import CollectorCore
import Foundation
import RecorderCore
import SQLKit
import WebDAV

/// Catalogued evidence in the built-in store is write-once: once the collector has accepted a
/// segment's manifest or sealed a voice recording, nobody (not its agent, not an admin) overwrites,
/// moves or deletes the sealed segment, its manifest or the sealed voice over WebDAV, nor a
/// collection holding them. Removal is retention's job, audited. (Before this, an agent could PUT
/// over or DELETE its own catalogued segments, and an admin a day's voice, while the catalog kept
/// listing what was gone.)
struct EvidenceLock: Sendable {
    let collector: Collector
    let store: BuiltinStore

    /// Throws 403 naming the catalogued object when `path` is one, or (a collection) holds one. The
    /// attempt is audited: someone tried to change evidence.
    func refuseChange(of path: StorePath, _ verb: String, by actor: Actor) async throws {
        guard let found = try await cataloguedObject(at: path) else { return }
        try await AuditLog.record(
            "store.refused", target: "store:\(path)", detail: "not \(verb): catalogued evidence /\(found)", by: actor,
            in: collector.catalog)
        throw CollectorError(
            .forbidden,
            "\(path) is catalogued evidence (/\(found)) and cannot be \(verb); recordings leave the store only through retention"
        )
    }

    /// The first catalogued object path at or under `path` in a built-in target, if any.
    func cataloguedObject(at path: StorePath) async throws -> String? {
        let builtin = "storage_target IN (SELECT name FROM storage_targets WHERE kind = 'builtin')"
        let key = path.components.joined(separator: "/")
        let segment: SQLQueryString
        let voice: SQLQueryString
        switch try store.kind(path) {
        case .missing: return nil
        case .file:
            // Only sealed segments, their manifests and sealed voice are catalogued: an agent's
            // temporary `*.uploading` (two PUTs and two MOVEs per segment) costs no catalog query.
            // A manifest `x.json` belongs to the segment `x.webm.p7m` the catalog lists.
            let manifestOf = StorageLayout.segmentName(ofManifest: key)
            guard key.hasSuffix(".p7m") || manifestOf != nil else { return nil }
            segment = "object_path = \(bind: manifestOf ?? key)"
            voice = manifestOf == nil ? "object_path = \(bind: key)" : "1 = 0"
        case .collection:
            if path.components.isEmpty {
                (segment, voice) = ("1 = 1", "1 = 1")
            } else {
                let prefix = key + "/"
                let under: SQLQueryString =
                    "substr(object_path, 1, CAST(\(bind: prefix.unicodeScalars.count) AS INTEGER)) = \(bind: prefix)"
                (segment, voice) = (under, under)
            }
        }
        for (table, condition) in [("segments", segment), ("voice_recordings", voice)] {
            let row = try await collector.catalog.sql.raw(
                "SELECT object_path FROM \(unsafeRaw: table) WHERE " + SQLQueryString(builtin) + " AND " + condition + " LIMIT 1"
            ).first()
            if let found = try row?.decode(column: "object_path", as: String.self) { return found }
        }
        return nil
    }
}
