import Foundation
import RecorderCore
import StorageClient

/// Makes what a real agent sends, without a screen: signed, chained manifests over opaque "sealed"
/// bytes (the collector checks their size and hash, never decrypts them at intake). The end-to-end
/// tests use the real agent; the collector's tests (exact control over order, tampering and keys) and
/// the load benchmark (many agents at once) use this one.
public final class SimulatedAgent: @unchecked Sendable {
    public let id: String
    public let nodePath: String
    public let signer: ManifestSigner
    public private(set) var previousManifestSha256: String?
    public private(set) var sequence = 0
    /// Wall time of the first segment; each next one starts a minute later.
    private let epoch: Date

    public init(
        id: String, nodePath: String, signer: ManifestSigner = .generate(),
        epoch: Date = Date(timeIntervalSince1970: 1_795_435_200)
    ) {
        self.signer = signer
        self.epoch = epoch
        self.id = id
        self.nodePath = nodePath
    }

    public struct Segment: Sendable {
        public var manifest: SegmentManifest
        public var manifestBytes: Data
        public var sealed: Data
        /// Where the agent stores it (`StorageLayout`), the file name last.
        public var objectPath: [String] {
            StorageLayout.directory(
                nodePath: manifest.nodePath, firstFrameTime: manifest.firstFrameTime, agentId: manifest.agentId,
                callId: manifest.callIds.first) + [manifest.segmentFile]
        }
    }

    /// The next segment in this agent's chain; `sealed`: its bytes (default ~1 KB of a pattern);
    /// `edit` changes the manifest before it is signed.
    public func nextSegment(
        callId: String? = nil, sealed given: Data? = nil, edit: (inout SegmentManifest) -> Void = { _ in }
    ) throws -> Segment {
        sequence += 1
        let sealed = given ?? Data((0..<(1000 + sequence)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ sequence) })
        let start = epoch.addingTimeInterval(Double(sequence) * 60)
        let nanos = Int64((start.timeIntervalSince1970 * 1000).rounded()) * 1_000_000
        let first = SegmentManifest.timestamp(unixNanos: nanos)
        let last = SegmentManifest.timestamp(unixNanos: nanos + 59_000_000_000)
        let name = StorageLayout.segmentFileName(firstFrameUnixNanos: nanos, sequence: sequence)
        var manifest = SegmentManifest(
            agentId: id, nodePath: nodePath, callIds: callId.map { [$0] } ?? [], sequence: sequence,
            segmentFile: name, firstFrameTime: first, lastFrameTime: last, durationMs: 59_000, frameCount: 295,
            width: 1280, height: 720, endReason: "length", sealedSize: sealed.count,
            sealedSha256: ManifestVerification.sha256Hex(sealed), previousManifestSha256: previousManifestSha256)
        edit(&manifest)
        let bytes = try signer.sign(manifest).fileBytes()
        previousManifestSha256 = ManifestVerification.sha256Hex(bytes)
        return Segment(manifest: manifest, manifestBytes: bytes, sealed: sealed)
    }

    /// Uploads like the agent does to an external WebDAV target: segment, then manifest.
    public func upload(_ segment: Segment, with client: WebDAVClient) throws {
        let directory = Array(segment.objectPath.dropLast())
        try client.store([UInt8](segment.sealed), in: directory, name: segment.manifest.segmentFile)
        try client.store(
            [UInt8](segment.manifestBytes), in: directory,
            name: StorageLayout.manifestName(ofSegment: segment.manifest.segmentFile))
    }

    /// The agent stores `X.json` next to `X.webm.p7m`.
    public static func manifestURL(of segmentURL: URL) -> URL {
        segmentURL.deletingLastPathComponent().appendingPathComponent(
            StorageLayout.manifestName(ofSegment: segmentURL.lastPathComponent))
    }
}
