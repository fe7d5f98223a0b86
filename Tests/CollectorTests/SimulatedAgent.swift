import CollectorCore
import Crypto
import Foundation
import RecorderCore
import StorageClient
import WebDAV

/// Makes what a real agent sends, without a screen: signed, chained manifests over opaque "sealed"
/// bytes (the collector checks their size and hash, never decrypts them at intake). The end-to-end
/// tests use the real agent; these tests need exact control over order, tampering and keys.
final class SimulatedAgent: @unchecked Sendable {
    let id: String
    let nodePath: String
    let signer = ManifestSigner.generate()
    private(set) var previousManifestSha256: String?
    private(set) var sequence = 0

    init(id: String, nodePath: String) {
        self.id = id
        self.nodePath = nodePath
    }

    struct Segment {
        var manifest: SegmentManifest
        var manifestBytes: Data
        var sealed: Data
        var objectPath: [String] {
            StorageLayout.directory(
                nodePath: manifest.nodePath, firstFrameTime: manifest.firstFrameTime, agentId: manifest.agentId,
                callId: manifest.callIds.first) + [manifest.segmentFile]
        }
    }

    /// The next segment in this agent's chain; `edit` changes the manifest before it is signed.
    func nextSegment(callId: String? = nil, edit: (inout SegmentManifest) -> Void = { _ in }) throws -> Segment {
        sequence += 1
        let sealed = Data((0..<(1000 + sequence)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ sequence) })
        let start = Date(timeIntervalSince1970: 1_795_435_200 + Double(sequence) * 60)
        let first = SegmentManifest.timestamp(unixNanos: Int64(start.timeIntervalSince1970) * 1_000_000_000)
        let last = SegmentManifest.timestamp(unixNanos: Int64(start.timeIntervalSince1970 + 59) * 1_000_000_000)
        let name = SimulatedAgent.fileStamp(start) + "-\(String(format: "%04d", sequence)).webm.p7m"
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

    /// `20261123T120000.000Z`, the way the agent names segment files.
    static func fileStamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss.SSS'Z'"
        return formatter.string(from: date)
    }

    /// Puts the sealed bytes and the manifest file where the agent's upload would have put them in the
    /// built-in store.
    func upload(_ segment: Segment, to collector: Collector, bytes: Data? = nil) throws {
        let url = try collector.builtinStore().url(StorePath(components: segment.objectPath))
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try (bytes ?? segment.sealed).write(to: url)
        try segment.manifestBytes.write(to: SimulatedAgent.manifestURL(of: url))
    }

    /// Uploads like the agent does to an external WebDAV target: segment, then manifest.
    func upload(_ segment: Segment, with client: WebDAVClient) throws {
        let directory = Array(segment.objectPath.dropLast())
        try client.store([UInt8](segment.sealed), in: directory, name: segment.manifest.segmentFile)
        try client.store(
            [UInt8](segment.manifestBytes), in: directory,
            name: String(segment.manifest.segmentFile.dropLast(".webm.p7m".count)) + ".json")
    }

    /// The agent stores `X.json` next to `X.webm.p7m`.
    static func manifestURL(of segmentURL: URL) -> URL {
        segmentURL.deletingLastPathComponent().appendingPathComponent(
            String(segmentURL.lastPathComponent.dropLast(".webm.p7m".count)) + ".json")
    }

    /// Enrols through the collector's own code path (a one-time code for the node path).
    func enrol(with collector: Collector, actor: Actor) async throws -> String {
        let code = try await collector.agents.makeCode(nodePath: nodePath, by: actor)
        return try await collector.agents.enrol(
            code: code.code, agentId: id, hostname: "\(id).example", signingKey: signer.publicKeyBase64,
            source: "127.0.0.1"
        ).token
    }
}
