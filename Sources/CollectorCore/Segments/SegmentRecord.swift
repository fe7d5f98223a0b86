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

    public var agentId: String
    public var sequence: Int
    public var manifestSha256: String
    public var nodePath: String
    public var storageTarget: String
    /// Inside the storage target, e.g. `emea/paris/2026/11/23/ws-0042/call-1/20261123T120000.250Z-0017.webm.p7m`.
    public var objectPath: String
    public var segmentFile: String
    public var callIds: [String]
    public var firstFrameTime: String
    public var lastFrameTime: String
    public var durationMs: Int
    public var frameCount: Int
    public var width: Int
    public var height: Int
    public var endReason: String
    public var pauseGaps: [SegmentManifest.PauseGap]
    public var sealedSize: Int
    public var sealedSha256: String
    public var previousManifestSha256: String?
    public var chain: ChainState
    public var chainDetail: String?
    /// When this catalog recorded the segment (intake or reindex); the only column a reindex changes.
    public var indexedAt: String

    enum CodingKeys: String, CodingKey {
        case sequence, chain, width, height
        case agentId = "agent_id"
        case manifestSha256 = "manifest_sha256"
        case nodePath = "node_path"
        case storageTarget = "storage_target"
        case objectPath = "object_path"
        case segmentFile = "segment_file"
        case callIds = "call_ids"
        case firstFrameTime = "first_frame_time"
        case lastFrameTime = "last_frame_time"
        case durationMs = "duration_ms"
        case frameCount = "frame_count"
        case endReason = "end_reason"
        case pauseGaps = "pause_gaps"
        case sealedSize = "sealed_size"
        case sealedSha256 = "sealed_sha256"
        case previousManifestSha256 = "previous_manifest_sha256"
        case chainDetail = "chain_detail"
        case indexedAt = "indexed_at"
    }

    init(
        manifest: SegmentManifest, manifestSha256: String, storageTarget: String, objectPath: String,
        indexedAt: String
    ) {
        agentId = manifest.agentId
        sequence = manifest.sequence
        self.manifestSha256 = manifestSha256
        nodePath = manifest.nodePath
        self.storageTarget = storageTarget
        self.objectPath = objectPath
        segmentFile = manifest.segmentFile
        callIds = manifest.callIds
        firstFrameTime = manifest.firstFrameTime
        lastFrameTime = manifest.lastFrameTime
        durationMs = manifest.durationMs
        frameCount = manifest.frameCount
        width = manifest.width
        height = manifest.height
        endReason = manifest.endReason
        pauseGaps = manifest.pauseGaps
        sealedSize = manifest.sealedSize
        sealedSha256 = manifest.sealedSha256
        previousManifestSha256 = manifest.previousManifestSha256
        chain = .pending
        self.indexedAt = indexedAt
    }

    init(row: any SQLRow) throws {
        agentId = try row.decode(column: "agent_id", as: String.self)
        sequence = try row.decode(column: "sequence", as: Int.self)
        manifestSha256 = try row.decode(column: "manifest_sha256", as: String.self)
        nodePath = try row.decode(column: "node_path", as: String.self)
        storageTarget = try row.decode(column: "storage_target", as: String.self)
        objectPath = try row.decode(column: "object_path", as: String.self)
        segmentFile = try row.decode(column: "segment_file", as: String.self)
        callIds = try JSONDecoder().decode(
            [String].self, from: Data(try row.decode(column: "call_ids", as: String.self).utf8))
        firstFrameTime = try row.decode(column: "first_frame_time", as: String.self)
        lastFrameTime = try row.decode(column: "last_frame_time", as: String.self)
        durationMs = try row.decode(column: "duration_ms", as: Int.self)
        frameCount = try row.decode(column: "frame_count", as: Int.self)
        width = try row.decode(column: "width", as: Int.self)
        height = try row.decode(column: "height", as: Int.self)
        endReason = try row.decode(column: "end_reason", as: String.self)
        pauseGaps = try JSONDecoder().decode(
            [SegmentManifest.PauseGap].self, from: Data(try row.decode(column: "pause_gaps", as: String.self).utf8))
        sealedSize = try row.decode(column: "sealed_size", as: Int.self)
        sealedSha256 = try row.decode(column: "sealed_sha256", as: String.self)
        previousManifestSha256 = try row.decode(column: "previous_manifest_sha256", as: String?.self)
        chain = ChainState(rawValue: try row.decode(column: "chain", as: String.self)) ?? .broken
        chainDetail = try row.decode(column: "chain_detail", as: String?.self)
        indexedAt = try row.decode(column: "indexed_at", as: String.self)
    }
}
