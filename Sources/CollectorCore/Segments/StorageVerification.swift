import Foundation
import RecorderCore

/// `recorder-collector verify-storage`: re-reads every catalogued object and compares it with the
/// catalog — the sealed segment's size and SHA-256, the manifest's SHA-256 — and walks every storage
/// target for files the catalog does not know. Where reindex asks "what does storage hold that the
/// catalog lacks?", this asks "is what the catalog vouches for still there, unchanged?".
extension Collector {
    public struct StorageVerificationReport: Sendable {
        public struct Finding: Sendable, Equatable {
            public var location: String
            public var problem: String
        }

        public var segmentsChecked = 0
        public var bytesHashed: Int64 = 0
        /// Catalogued segments or manifests that are gone.
        public var missing: [Finding] = []
        /// Catalogued objects whose bytes differ from what the catalog recorded.
        public var altered: [Finding] = []
        /// Files in storage the catalog does not list (not counting unfinished uploads).
        public var unknown: [Finding] = []
        /// Uploads left under their temporary name (`*.uploading`): an agent's retry overwrites them.
        public var incompleteUploads: [String] = []

        public var isClean: Bool { missing.isEmpty && altered.isEmpty && unknown.isEmpty }
    }

    public func verifyStorage(by actor: Actor, progress: @escaping @Sendable (String) -> Void = { _ in })
        async throws -> StorageVerificationReport
    {
        var report = StorageVerificationReport()
        var known: [String: Set<String>] = [:]
        var storages: [String: any TargetStorage] = [:]
        for target in try await storageTargets.list() {
            storages[target.name] = try await storage(named: target.name)
        }
        let rows = try await segments.all()
        for (index, row) in rows.enumerated() {
            if index > 0 && index % 500 == 0 { progress("\(index) of \(rows.count) segments checked") }
            guard let storage = storages[row.storageTarget] else {
                report.missing.append(
                    .init(
                        location: "\(row.storageTarget):\(row.objectPath)",
                        problem: "its storage target no longer exists"))
                continue
            }
            let segment = row.objectPath.split(separator: "/").map(String.init)
            let manifest = segment.dropLast() + [StorageLayout.manifestName(ofSegment: segment.last ?? "")]
            known[row.storageTarget, default: []].formUnion([
                segment.joined(separator: "/"), manifest.joined(separator: "/"),
            ])
            report.segmentsChecked += 1
            let stored = try await Collector.onThreadPool { try storage.digest(segment) }
            if let stored {
                report.bytesHashed += Int64(stored.size)
                if stored.size != row.manifest.sealedSize || stored.sha256 != row.manifest.sealedSha256 {
                    report.altered.append(
                        .init(
                            location: storage.describe(segment),
                            problem:
                                "holds \(stored.size) bytes with SHA-256 \(stored.sha256); the catalog recorded \(row.manifest.sealedSize) bytes with \(row.manifest.sealedSha256) (agent \(row.agentId) #\(row.sequence))"
                        ))
                }
            } else {
                report.missing.append(
                    .init(
                        location: storage.describe(segment),
                        problem: "segment of agent \(row.agentId) #\(row.sequence) is gone"))
            }
            let manifestDigest = try await Collector.onThreadPool { try storage.digest(Array(manifest)) }
            if let manifestDigest {
                if manifestDigest.sha256 != row.manifestSha256 {
                    report.altered.append(
                        .init(
                            location: storage.describe(Array(manifest)),
                            problem:
                                "the manifest of agent \(row.agentId) #\(row.sequence) differs from the one catalogued")
                    )
                }
            } else {
                report.missing.append(
                    .init(
                        location: storage.describe(Array(manifest)),
                        problem: "manifest of agent \(row.agentId) #\(row.sequence) is gone"))
            }
        }
        for (name, storage) in storages.sorted(by: { $0.key < $1.key }) {
            progress("walking storage target \(name)")
            let files = try await Collector.onThreadPool { try Collector.allFiles(in: storage) }
            let catalogued = known[name] ?? []
            for file in files where !catalogued.contains(file.joined(separator: "/")) {
                if file.last?.hasSuffix(".uploading") ?? false {
                    report.incompleteUploads.append(storage.describe(file))
                } else {
                    report.unknown.append(.init(location: storage.describe(file), problem: "not in the catalog"))
                }
            }
        }
        let summary =
            "\(report.segmentsChecked) segments, \(report.bytesHashed) bytes hashed: \(report.missing.count) missing, \(report.altered.count) altered, \(report.unknown.count) unknown, \(report.incompleteUploads.count) incomplete uploads"
        try await AuditLog.record("storage.verify", target: "segments", detail: summary, by: actor, in: catalog)
        return report
    }

    /// Every file under a storage target (hidden names included: nothing may hide there), depth-first.
    static func allFiles(in storage: any TargetStorage) throws -> [[String]] {
        var found: [[String]] = []
        var pending: [[String]] = [[]]
        while let directory = pending.popLast() {
            for entry in try storage.list(directory) {
                let path = directory + [entry.name]
                if entry.isCollection {
                    if path.count < reindexMaximumDepth { pending.append(path) }
                } else {
                    found.append(path)
                }
            }
        }
        return found.sorted { $0.joined(separator: "/") < $1.joined(separator: "/") }
    }
}
