import SQLKit

/// Judges a segment's place in its agent's hash chain from what the catalog holds, never from arrival
/// order: each manifest names the SHA-256 of the agent's previous manifest file, so a deleted, edited,
/// replaced or reordered manifest shows as a break (DESIGN.md §6).
enum SegmentChain {
    static func judge(_ segment: SegmentRecord, in database: any SQLDatabase) async throws -> (
        SegmentRecord.ChainState, String?
    ) {
        let siblings = try await hashes(agentId: segment.agentId, sequence: segment.sequence, in: database)
        if siblings.contains(where: { $0 != segment.manifestSha256 }) {
            return (
                .broken,
                "sequence \(segment.sequence) arrived in \(Set(siblings).count) different manifests: the agent's chain was reset or forked (a restored state directory, or a copied identity)"
            )
        }
        guard let previous = segment.manifest.previousManifestSha256 else {
            if segment.sequence == 1 { return (.first, nil) }
            return (
                .broken,
                "segment \(segment.sequence) names no predecessor: the agent's chain state was reset (chain.json removed?)"
            )
        }
        let predecessors = try await hashes(agentId: segment.agentId, sequence: segment.sequence - 1, in: database)
        if predecessors.isEmpty {
            return (.pending, "segment \(segment.sequence - 1) has not arrived (yet)")
        }
        if predecessors.contains(previous) { return (.linked, nil) }
        return (
            .broken,
            "does not chain to segment \(segment.sequence - 1): the manifest the catalog holds for it has another hash (edited, replaced or reordered)"
        )
    }

    private static func hashes(agentId: String, sequence: Int, in database: any SQLDatabase) async throws -> [String] {
        try await database.raw(
            "SELECT manifest_sha256 FROM segments WHERE agent_id = \(bind: agentId) AND sequence = \(bind: sequence)"
        ).all().map { try $0.decode(column: "manifest_sha256", as: String.self) }
    }
}
