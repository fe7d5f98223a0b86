import Foundation
import RecorderCore
import SQLKit

/// `recorder-collector reindex`: rebuilds the segment catalog from the manifests in storage, the
/// primary record (the catalog is an index of it). Every manifest goes through the checks intake
/// applies — strict parsing, signature, the stored object's size and SHA-256 — and is recorded with
/// the same code (`Segments.record`), whose chain verdicts do not depend on order; so dropping the
/// database and reindexing gives the same rows, only `indexed_at` differs. Idempotent: manifests the
/// catalog holds already are counted, not read twice.
///
/// Signatures: an agent the catalog knows must have signed with its enrolled key. An agent it does
/// not know (the database was lost with the agents table) is checked by consistency instead — all its
/// manifests must carry one key — and the report says so, since that proves integrity, not origin.
extension Collector {
    public struct ReindexReport: Sendable {
        public var targets: [String] = []
        public var manifestsFound = 0
        public var added = 0
        public var alreadyPresent = 0
        /// Manifests not recorded, with the reason (a bad signature, a missing or altered object).
        public var refused: [Problem] = []
        /// Catalog rows whose manifest is in none of the storage targets any more.
        public var missingFromStorage: [SegmentRecord] = []
        /// Agents whose manifests were checked by key consistency only (unknown to this catalog).
        public var selfSignedAgents: [String] = []

        public struct Problem: Sendable, Equatable {
            public var location: String
            public var reason: String
        }

        public var isClean: Bool { refused.isEmpty && missingFromStorage.isEmpty }
    }

    /// Directory depth past which the walk stops: the layout is {node path}/{yyyy}/{mm}/{dd}/{agent}/{call}/.
    static let reindexMaximumDepth = 40

    public func reindex(by actor: Actor, progress: @escaping @Sendable (String) -> Void = { _ in }) async throws
        -> ReindexReport
    {
        var report = ReindexReport()
        var seen: Set<String> = []
        var candidates: [Candidate] = []
        for target in try await storageTargets.list() {
            let storage = try await storage(named: target.name)
            report.targets.append(target.name)
            progress("scanning storage target \(target.name)")
            let paths = try await Collector.onThreadPool { try Collector.manifestPaths(in: storage) }
            report.manifestsFound += paths.count
            for path in paths {
                let location = storage.describe(path)
                do {
                    guard
                        let bytes = try await Collector.onThreadPool({
                            try storage.read(path, limit: Collector.maximumManifestBytes)
                        })
                    else { continue }
                    let manifest = try Collector.parseManifest(bytes)
                    // Only where its agent id and node path put it: a manifest elsewhere (in another
                    // agent's area, say) is refused, and cannot stand in the way of the genuine ones.
                    let expected = Collector.manifestPath(of: manifest)
                    guard path.map({ Array($0.utf8) }) == expected.map({ Array($0.utf8) }) else {
                        throw CollectorError(
                            .unprocessable,
                            "a manifest of agent \(manifest.agentId) at node path \(manifest.nodePath) belongs at \(storage.describe(expected)), not here"
                        )
                    }
                    candidates.append(
                        Candidate(
                            target: target.name, storage: storage, path: path, bytes: bytes, manifest: manifest,
                            sha256: ManifestVerification.sha256Hex(bytes)))
                } catch {
                    report.refused.append(.init(location: location, reason: "\(error)"))
                }
            }
        }

        let keys = try await reindexKeys(for: candidates, report: &report)
        for candidate in candidates {
            let location = candidate.storage.describe(candidate.path)
            let identity = "\(candidate.manifest.agentId)/\(candidate.manifest.sequence)/\(candidate.sha256)"
            guard !seen.contains(identity) else { continue }
            seen.insert(identity)
            if try await segments.find(
                agentId: candidate.manifest.agentId, sequence: candidate.manifest.sequence,
                manifestSha256: candidate.sha256) != nil
            {
                report.alreadyPresent += 1
                continue
            }
            do {
                try await reindexOne(candidate, expectedKeys: keys[candidate.manifest.agentId], by: actor)
                report.added += 1
                if report.added % 500 == 0 { progress("\(report.added) segments recorded") }
            } catch {
                report.refused.append(.init(location: location, reason: "\(error)"))
            }
        }
        report.missingFromStorage = try await segments.all().filter {
            !seen.contains("\($0.agentId)/\($0.sequence)/\($0.manifestSha256)")
        }
        let summary =
            "targets \(report.targets.joined(separator: ",")): \(report.manifestsFound) manifests, \(report.added) added, \(report.alreadyPresent) present, \(report.refused.count) refused, \(report.missingFromStorage.count) rows without a manifest in storage"
        try await catalog.transaction { database in
            try await AuditLog.record("catalog.reindex", target: "segments", detail: summary, by: actor, in: database)
        }
        return report
    }

    struct Candidate: Sendable {
        var target: String
        var storage: any TargetStorage
        var path: [String]
        var bytes: Data
        var manifest: SegmentManifest
        var sha256: String
    }

    /// The key each agent's manifests must carry: the enrolled one when the catalog knows the agent,
    /// otherwise the one key all its manifests agree on (none when they disagree: all are refused).
    /// An enrolled agent's manifests may carry any key of its history (a re-enrolled agent signed its
    /// earlier segments with the key it had then).
    private func reindexKeys(for candidates: [Candidate], report: inout ReindexReport) async throws
        -> [String: Set<String>]
    {
        var keys: [String: Set<String>] = [:]
        let enrolled = try await agents.keyHistory()
        for (agentId, manifests) in Dictionary(grouping: candidates, by: \.manifest.agentId) {
            if let history = enrolled[agentId] {
                keys[agentId] = Set(history)
                continue
            }
            let presented = Set(manifests.compactMap(\.manifest.signature?.publicKey))
            if presented.count == 1 {
                keys[agentId] = presented
                report.selfSignedAgents.append(agentId)
            } else {
                keys[agentId] = []
            }
        }
        report.selfSignedAgents.sort()
        return keys
    }

    private func reindexOne(_ candidate: Candidate, expectedKeys: Set<String>?, by actor: Actor) async throws {
        let manifest = candidate.manifest
        guard let expectedKeys, !expectedKeys.isEmpty else {
            throw CollectorError(
                .unprocessable,
                "agent \(manifest.agentId) is not enrolled here and its manifests carry different signing keys: enrol it, then reindex again"
            )
        }
        // The presented key when it is one of the agent's; otherwise one of its own, which then fails to verify.
        let presented = manifest.signature?.publicKey ?? ""
        let key = expectedKeys.contains(presented) ? presented : expectedKeys.sorted()[0]
        let objectPath = try await Collector.verify(
            manifest, signedBy: key, storedIn: candidate.storage, target: candidate.target)
        let record = SegmentRecord(
            manifest: manifest, manifestSha256: candidate.sha256, storageTarget: candidate.target,
            objectPath: objectPath.joined(separator: "/"), indexedAt: Timestamp.now())
        _ = try await segments.record(
            record, manifestText: String(decoding: candidate.bytes, as: UTF8.self), by: actor)
    }

    /// Every manifest file in a storage target: `*.json`, not hidden (temporary uploads are, and so
    /// is whatever sits under a hidden collection).
    static func manifestPaths(in storage: any TargetStorage) throws -> [[String]] {
        try allFiles(in: storage).filter { path in
            path.last?.hasSuffix(".json") == true && !path.contains { $0.hasPrefix(".") }
        }
    }

}
