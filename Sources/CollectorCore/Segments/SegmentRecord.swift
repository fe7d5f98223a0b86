import Foundation
import RecorderCore
import SQLKit

/// One stored screen segment as the catalog knows it: what its manifest says, where it is stored, and
/// how it stands in its agent's hash chain.
public struct SegmentRecord: Codable, Sendable, Equatable {
    /// How the segment links to its agent's previous one (`SegmentChain`).
    public enum ChainState: String, Codable, Sendable {
        /// The agent's first segment (sequence 1, no predecessor).
        case first
        /// Names the hash of the manifest the catalog holds for sequence − 1.
        case linked
        /// Sequence − 1 has not arrived (yet): uploads run in parallel, or it was lost in the spool.
        case pending
        /// Does not chain: an edited, replaced, reordered or deleted manifest, or a reset agent chain.
        case broken
    }

    /// The manifest exactly as its agent signed it (the row's `manifest` column holds its file bytes).
    public var manifest: SegmentManifest
    /// SHA-256 of those bytes: the chain links by it.
    public var manifestSha256: String
    public var storageTarget: String
    /// Inside the storage target, e.g. `emea/paris/2026/11/23/ws-0042/call-1/20261123T120000.250Z-0017.webm.p7m`.
    public var objectPath: String
    public var chain: ChainState
    public var chainDetail: String?
    /// When this catalog recorded the segment (intake or reindex); the only column a reindex changes.
    public var indexedAt: String

    /// The row's identity with `manifestSha256`.
    public var agentId: String { manifest.agentId }
    public var sequence: Int { manifest.sequence }

    enum CodingKeys: String, CodingKey {
        case manifest, chain
        case manifestSha256 = "manifest_sha256"
        case storageTarget = "storage_target"
        case objectPath = "object_path"
        case chainDetail = "chain_detail"
        case indexedAt = "indexed_at"
    }

    init(
        manifest: SegmentManifest, manifestSha256: String, storageTarget: String, objectPath: String,
        indexedAt: String
    ) {
        self.manifest = manifest
        self.manifestSha256 = manifestSha256
        self.storageTarget = storageTarget
        self.objectPath = objectPath
        chain = .pending
        self.indexedAt = indexedAt
    }

    /// A `segments` row: the manifest from its stored bytes, the rest from the catalog's own columns.
    init(row: any SQLRow) throws {
        let text = try row.decode(column: "manifest", as: String.self)
        // Checked strictly at intake; rows written by an older intake may hold keys it let through.
        manifest = try StrictJSON.decode(SegmentManifest.self, from: Data(text.utf8), unknownKeys: .ignore)
        manifestSha256 = try row.decode(column: "manifest_sha256", as: String.self)
        storageTarget = try row.decode(column: "storage_target", as: String.self)
        objectPath = try row.decode(column: "object_path", as: String.self)
        chain = ChainState(rawValue: try row.decode(column: "chain", as: String.self)) ?? .broken
        chainDetail = try row.decode(column: "chain_detail", as: String?.self)
        indexedAt = try row.decode(column: "indexed_at", as: String.self)
    }

    /// Every column of a new `segments` row, in one list: the catalog's own, then the manifest fields
    /// the catalog queries or lists by (a copy of what `manifest` holds, kept in columns so SQL can
    /// filter and sort). `manifestText`: the manifest file's exact bytes.
    func columns(manifestText: String) throws -> [(name: String, value: any Encodable & Sendable)] {
        let json = { (value: any Encodable) in String(decoding: try StrictJSON.encode(value), as: UTF8.self) }
        return [
            ("manifest", manifestText), ("manifest_sha256", manifestSha256), ("storage_target", storageTarget),
            ("object_path", objectPath), ("chain", chain.rawValue), ("chain_detail", chainDetail),
            ("indexed_at", indexedAt),
            ("agent_id", manifest.agentId), ("sequence", manifest.sequence), ("node_path", manifest.nodePath),
            ("segment_file", manifest.segmentFile), ("call_ids", try json(manifest.callIds)),
            ("first_frame_time", manifest.firstFrameTime), ("last_frame_time", manifest.lastFrameTime),
            ("duration_ms", manifest.durationMs), ("frame_count", manifest.frameCount), ("width", manifest.width),
            ("height", manifest.height), ("end_reason", manifest.endReason),
            ("pause_gaps", try json(manifest.pauseGaps)), ("sealed_size", manifest.sealedSize),
            ("sealed_sha256", manifest.sealedSha256), ("previous_manifest_sha256", manifest.previousManifestSha256),
        ]
    }
}
