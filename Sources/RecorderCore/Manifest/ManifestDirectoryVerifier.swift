import Foundation

/// Checks a directory of sealed segments and their manifests: signatures, stored file sizes and hashes,
/// and each agent's hash chain. Used by `recorder-agent verify` and, later, the collector's reindex.
public enum ManifestDirectoryVerifier {
    public struct Report: Sendable {
        public var manifestsChecked = 0
        /// Problems in the order found; the first one is the first break.
        public var problems: [String] = []
        public var isIntact: Bool { problems.isEmpty }
    }

    /// `expectedPublicKey` (base64 Ed25519) pins the agent's key; without it the first manifest's key
    /// is trusted and every later one must match it.
    public static func verify(directory: URL, expectedPublicKey: String? = nil) throws -> Report {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }
        var report = Report()
        var manifests: [(manifest: SegmentManifest, name: String, bytes: Data)] = []
        for name in names.sorted() {
            let bytes = try Data(contentsOf: directory.appendingPathComponent(name))
            guard let manifest = try? JSONDecoder().decode(SegmentManifest.self, from: bytes) else {
                report.problems.append("\(name): not a version 1 segment manifest")
                continue
            }
            manifests.append((manifest, name, bytes))
        }
        let byAgent = Dictionary(grouping: manifests) { $0.manifest.agentId }
        for agent in byAgent.keys.sorted() {
            let chain = byAgent[agent]!.sorted { $0.manifest.sequence < $1.manifest.sequence }
            let pinnedKey = expectedPublicKey ?? chain.first?.manifest.signature?.publicKey
            var previous: (manifest: SegmentManifest, name: String, bytes: Data)?
            for entry in chain {
                report.manifestsChecked += 1
                do {
                    try ManifestVerification.verifySignature(entry.manifest, expectedPublicKey: pinnedKey)
                } catch {
                    report.problems.append("\(entry.name): \(error)")
                }
                checkStoredFile(entry.manifest, name: entry.name, in: directory, into: &report)
                if let previous {
                    let expected = previous.manifest.sequence + 1
                    if entry.manifest.sequence == previous.manifest.sequence {
                        report.problems.append(
                            "\(entry.name): sequence \(entry.manifest.sequence) appears twice (also in \(previous.name))"
                        )
                    } else if entry.manifest.sequence != expected {
                        report.problems.append(
                            "\(entry.name): segments \(expected)...\(entry.manifest.sequence - 1) of agent \(agent) are missing after \(previous.name) (deleted?)"
                        )
                    } else if entry.manifest.previousManifestSha256 != ManifestVerification.sha256Hex(previous.bytes) {
                        report.problems.append(
                            "\(entry.name): does not chain to \(previous.name) (a manifest was edited, replaced or reordered)"
                        )
                    }
                }
                previous = entry
            }
        }
        return report
    }

    private static func checkStoredFile(
        _ manifest: SegmentManifest, name: String, in directory: URL, into report: inout Report
    ) {
        let file = directory.appendingPathComponent(manifest.segmentFile)
        guard manifest.segmentFile == file.lastPathComponent, !manifest.segmentFile.hasPrefix(".") else {
            report.problems.append("\(name): segment file name \"\(manifest.segmentFile)\" is not a plain file name")
            return
        }
        guard let stored = FileManager.default.contents(atPath: file.path) else {
            report.problems.append("\(name): its segment \(manifest.segmentFile) is missing")
            return
        }
        if stored.count != manifest.sealedSize {
            report.problems.append(
                "\(name): \(manifest.segmentFile) is \(stored.count) bytes, the manifest says \(manifest.sealedSize)")
        } else if ManifestVerification.sha256Hex(stored) != manifest.sealedSha256 {
            report.problems.append("\(name): \(manifest.segmentFile) does not match its SHA-256 (altered)")
        }
    }
}
