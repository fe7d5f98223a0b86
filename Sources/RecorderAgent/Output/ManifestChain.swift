import Foundation
import RecorderCore
import Synchronization

/// The agent's durable identity and hash chain: its Ed25519 key and the head of its manifest chain.
///
/// Files in the state directory (0700): `identity.ed25519` (base64 raw key, 0600, created on first
/// start) and `chain.json` (next sequence number and SHA-256 of the last manifest), replaced atomically
/// and fsync'd after each manifest so a restart continues the chain instead of forking it.
public final class ManifestChain: Sendable {
    public let agentId: String
    public let nodePath: String
    public let signer: ManifestSigner
    private let stateDirectory: URL
    private let head: Mutex<Head>

    struct Head: Codable {
        var nextSequence = 1
        var lastManifestSha256: String?
        /// The last manifest's `sealedSha256`: a journal whose segment this is was stored before a
        /// crash took the agent, even if the segment has left the spool since (`JournalRecovery`).
        var lastSealedSha256: String?
    }

    public init(stateDirectory path: String, agentId: String, nodePath: String) throws {
        self.agentId = agentId
        self.nodePath = nodePath
        stateDirectory = URL(fileURLWithPath: path, isDirectory: true)
        try DurableFile.makeDirectory(stateDirectory)
        let keyFile = stateDirectory.appendingPathComponent("identity.ed25519")
        if let existing = FileManager.default.contents(atPath: keyFile.path) {
            guard
                let raw = Data(
                    base64Encoded: String(decoding: existing, as: UTF8.self).trimmingCharacters(
                        in: .whitespacesAndNewlines)),
                let signer = try? ManifestSigner(rawPrivateKey: raw)
            else {
                throw OutputError(
                    description:
                        "\(keyFile.path) is not an Ed25519 key written by this agent; move it away to create a new identity (the collector must then re-enrol this agent)"
                )
            }
            self.signer = signer
        } else {
            signer = ManifestSigner.generate()
            try DurableFile.write(Data(signer.rawRepresentation.base64EncodedString().utf8), to: keyFile)
        }
        let chainFile = stateDirectory.appendingPathComponent("chain.json")
        var state = Head()
        if let data = FileManager.default.contents(atPath: chainFile.path) {
            do {
                state = try JSONDecoder().decode(Head.self, from: data)
            } catch {
                throw OutputError(
                    description:
                        "\(chainFile.path) is damaged (\(error)); restore it from backup, or remove it to start a new chain (the collector will flag the break)"
                )
            }
        }
        head = Mutex(state)
    }

    /// Signs the next manifest for a sealed segment, lets `store` write the sealed file and the manifest
    /// (in that order), and only then moves the chain head. A crash or failure before the head moves
    /// leaves no gap: `recover` adopts a manifest that was written and re-attests a sealed file that was not.
    /// Returns the segment's file name (`fileName(sequence)`).
    @discardableResult
    public func append(
        segment: RecordedSegment, sealedBytes: [UInt8], fileName: (Int) -> String,
        store: (_ segmentFile: String, _ manifest: Data) throws -> Void
    ) throws -> String {
        try head.withLock { head in
            let segmentFile = fileName(head.nextSequence)
            let manifest = SegmentManifest(
                agentId: agentId, nodePath: nodePath, callIds: segment.callIds, sequence: head.nextSequence,
                segmentFile: segmentFile,
                firstFrameTime: SegmentManifest.timestamp(unixNanos: segment.startWallTimeNanos),
                lastFrameTime: SegmentManifest.timestamp(
                    unixNanos: segment.startWallTimeNanos + segment.lastFrameOffsetMs * 1_000_000),
                durationMs: Int(segment.durationMs.rounded()), frameCount: segment.frameCount, width: segment.width,
                height: segment.height, pauseGaps: segment.pauseGaps,
                legs: segment.legs.isEmpty ? nil : segment.legs, holds: segment.holds.isEmpty ? nil : segment.holds,
                monitor: segment.monitor, endReason: segment.endReason.rawValue, recovery: segment.recovery,
                sealedSize: sealedBytes.count,
                sealedSha256: ManifestVerification.sha256Hex(sealedBytes),
                previousManifestSha256: head.lastManifestSha256)
            let bytes = try signer.sign(manifest).fileBytes()
            try store(segmentFile, bytes)
            try commit(&head, sequence: manifest.sequence, manifestBytes: bytes, sealedSha256: manifest.sealedSha256)
            return segmentFile
        }
    }

    private func commit(_ head: inout Head, sequence: Int, manifestBytes: Data, sealedSha256: String?) throws {
        let next = Head(
            nextSequence: sequence + 1, lastManifestSha256: ManifestVerification.sha256Hex(manifestBytes),
            lastSealedSha256: sealedSha256)
        try DurableFile.write(try JSONEncoder().encode(next), to: stateDirectory.appendingPathComponent("chain.json"))
        head = next
    }

    /// What `recover` found in the spool after an unclean stop.
    public struct Recovery: Sendable, Equatable {
        public var removedTemporaryFiles = 0
        public var adoptedManifests = 0
        public var reattestedSegments: [String] = []

        public init() {}
    }

    /// Brings the chain and the spool back in step after a crash: `recoverHead`, then `reattestOrphans`.
    /// (The agent recovers its journals between the two, `JournalRecovery`.)
    public func recover(spool: URL) throws -> Recovery {
        var recovery = try recoverHead(spool: spool)
        recovery.reattestedSegments = try reattestOrphans(spool: spool)
        return recovery
    }

    /// Removes torn temporary files and adopts the manifests written after the head last moved.
    public func recoverHead(spool: URL) throws -> Recovery {
        var recovery = Recovery()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: spool.path)) ?? []
        for name in names where name.hasPrefix(".") && name.hasSuffix(".tmp") {
            try? FileManager.default.removeItem(at: spool.appendingPathComponent(name))
            recovery.removedTemporaryFiles += 1
        }
        var newest: (manifest: SegmentManifest, bytes: Data)?
        for (manifest, bytes) in ownManifests(in: spool) where manifest.sequence > (newest?.manifest.sequence ?? 0) {
            newest = (manifest, bytes)
        }
        try head.withLock { head in
            if let newest, newest.manifest.sequence >= head.nextSequence {
                try commit(
                    &head, sequence: newest.manifest.sequence, manifestBytes: newest.bytes,
                    sealedSha256: newest.manifest.sealedSha256)
                recovery.adoptedManifests += 1
            }
        }
        return recovery
    }

    /// Signs a `recovered` manifest for every sealed file whose manifest was never written (its timing
    /// fields are unknown and left at zero); returns their names.
    public func reattestOrphans(spool: URL) throws -> [String] {
        let described = Set(ownManifests(in: spool).map(\.manifest.segmentFile))
        let names = (try? FileManager.default.contentsOfDirectory(atPath: spool.path)) ?? []
        var reattested: [String] = []
        for name in names.sorted()
        where name.hasSuffix(".webm.p7m") && !name.hasPrefix(".") && !described.contains(name) {
            guard let sealed = FileManager.default.contents(atPath: spool.appendingPathComponent(name).path) else {
                continue
            }
            try reattest(segmentFile: name, sealed: [UInt8](sealed), in: spool)
            reattested.append(name)
        }
        return reattested
    }

    /// Whether the chain holds a sealed segment with this SHA-256: in the spool, or the last one
    /// committed (stored, perhaps uploaded and gone from the spool since).
    public func holds(sealedSha256: String, spool: URL) -> Bool {
        head.withLock { $0.lastSealedSha256 } == sealedSha256
            || ownManifests(in: spool).contains { $0.manifest.sealedSha256 == sealedSha256 }
    }

    /// Whether the head has moved past this manifest: only such a manifest may be uploaded (and so
    /// leave the spool). One written just before a crash is adopted at the next start, then taken.
    public func isCommitted(_ manifest: SegmentManifest) -> Bool {
        manifest.agentId != agentId || head.withLock { manifest.sequence < $0.nextSequence }
    }

    /// This agent's manifests in the spool, with their bytes.
    private func ownManifests(in spool: URL) -> [(manifest: SegmentManifest, bytes: Data)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: spool.path)) ?? []
        return names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.compactMap { name in
            guard let bytes = FileManager.default.contents(atPath: spool.appendingPathComponent(name).path),
                let manifest = try? JSONDecoder().decode(SegmentManifest.self, from: bytes),
                manifest.agentId == agentId
            else { return nil }
            return (manifest, bytes)
        }
    }

    private func reattest(segmentFile: String, sealed: [UInt8], in spool: URL) throws {
        try head.withLock { head in
            // The file name starts with the first frame's time: 20261123T174501.250Z-0007.webm.p7m.
            let time = SegmentManifest.timestamp(fromFileName: segmentFile) ?? "1970-01-01T00:00:00.000Z"
            let manifest = SegmentManifest(
                agentId: agentId, nodePath: nodePath, callIds: [], sequence: head.nextSequence,
                segmentFile: segmentFile, firstFrameTime: time, lastFrameTime: time, durationMs: 0, frameCount: 0,
                width: 0, height: 0, endReason: "recovered", sealedSize: sealed.count,
                sealedSha256: ManifestVerification.sha256Hex(sealed), previousManifestSha256: head.lastManifestSha256)
            let bytes = try signer.sign(manifest).fileBytes()
            try DurableFile.write(
                bytes, to: spool.appendingPathComponent(StorageLayout.manifestName(ofSegment: segmentFile)))
            try commit(&head, sequence: manifest.sequence, manifestBytes: bytes, sealedSha256: manifest.sealedSha256)
        }
    }
}
