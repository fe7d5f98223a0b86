import Foundation
import RecorderCore
import SQLKit

/// Manifest intake: what an agent posts after its segment is stored. Nothing is recorded unless the
/// manifest is signed by the key the agent enrolled with, names this agent and its node path, and the
/// storage holds a file of exactly the size and SHA-256 it states. The chain is judged, not enforced:
/// a break is recorded and flagged (and audited), the segment is still catalogued.
extension Collector {
    /// The largest manifest accepted (they are ~1 KB; call ids and pause gaps make them grow a little).
    public static let maximumManifestBytes = 64 * 1024

    public func acceptManifest(_ bytes: Data, from agent: Agents.Agent, source: String) async throws
        -> Segments.Recorded
    {
        let manifest = try Collector.parseManifest(bytes)
        guard manifest.agentId == agent.id else {
            throw CollectorError(
                .forbidden, "the manifest is agent \(manifest.agentId)'s; this token belongs to agent \(agent.id)")
        }
        guard manifest.nodePath == agent.nodePath else {
            throw CollectorError(
                .forbidden,
                "the manifest names node path \(manifest.nodePath); agent \(agent.id) is enrolled at \(agent.nodePath) (fix node_path in the agent's configuration, or enrol it again)"
            )
        }
        let manifestSha256 = ManifestVerification.sha256Hex(bytes)
        // A retry of a report whose answer was lost: the same bytes were verified before.
        if let existing = try await segments.find(
            agentId: agent.id, sequence: manifest.sequence, manifestSha256: manifestSha256)
        {
            // As for voice: a report retried after a crash between its row and its queue entry.
            try await enqueueCorrelation(of: manifest)
            return .duplicate(existing)
        }
        guard let nodePath = try await nodePaths.resolve(agent.nodePath) else {
            throw CollectorError(.notFound, "no node path covers \(agent.nodePath); an admin must add one (or /)")
        }
        let objectPath = try await Collector.verify(
            manifest, signedBy: agent.signingKey, storedIn: try await storage(named: nodePath.storage),
            target: nodePath.storage)
        let record = SegmentRecord(
            manifest: manifest, manifestSha256: manifestSha256, storageTarget: nodePath.storage,
            objectPath: objectPath.joined(separator: "/"), indexedAt: Timestamp.now())
        let recorded = try await segments.record(
            record, manifestText: String(decoding: bytes, as: UTF8.self),
            by: Actor(name: "agent:\(agent.id)", source: source))
        try await enqueueCorrelation(of: manifest)
        return recorded
    }

    /// The calls a new segment may belong to, for the correlation job: those it names, or for a
    /// segment recorded for no call (record-always), those with a leg at its workstation around it.
    func enqueueCorrelation(of manifest: SegmentManifest) async throws {
        var rows: [any SQLRow]
        if manifest.callIds.isEmpty {
            guard let first = Timestamp.date(manifest.firstFrameTime), let last = Timestamp.date(manifest.lastFrameTime)
            else { return }
            // Wide enough for a workstation clock that is off by minutes.
            rows = try await catalog.sql.raw(
                """
                SELECT DISTINCT integration, interaction_id FROM call_legs WHERE workstation = \(bind: manifest.agentId)
                AND started_at <= \(bind: Timestamp.string(last.addingTimeInterval(900)))
                AND (ended_at IS NULL OR ended_at >= \(bind: Timestamp.string(first.addingTimeInterval(-900))))
                LIMIT 100
                """
            ).all()
        } else {
            rows = try await catalog.sql.raw(
                "SELECT integration, interaction_id FROM calls WHERE interaction_id IN (\(binds: manifest.callIds)) LIMIT 100"
            ).all()
        }
        let calls = try rows.map {
            (try $0.decode(column: "integration", as: String.self), try $0.decode(column: "interaction_id", as: String.self))
        }
        guard !calls.isEmpty else { return }
        try await catalog.transaction { try await CorrelationJob.enqueue(calls, in: $0) }
    }

    /// What every catalogued segment passed, at intake and at reindex: the manifest is signed by `key`,
    /// and `storage` holds, where the layout puts it, a file of exactly the stated size and SHA-256
    /// (read as a stream). Returns that file's path; a 422 says what is wrong.
    static func verify(
        _ manifest: SegmentManifest, signedBy key: String, storedIn storage: any TargetStorage, target: String
    )
        async throws -> [String]
    {
        do {
            try ManifestVerification.verifySignature(manifest, expectedPublicKey: key)
        } catch {
            throw CollectorError(.unprocessable, "manifest \(manifest.segmentFile): \(error)")
        }
        let objectPath = Collector.objectPath(of: manifest)
        let stored = try await Collector.onThreadPool { try storage.digest(objectPath) }
        let location = storage.describe(objectPath)
        guard let stored else {
            throw CollectorError(
                .unprocessable,
                "\(manifest.segmentFile) is not in storage target \(target) at \(location); upload the segment before its manifest"
            )
        }
        guard stored.size == manifest.sealedSize else {
            throw CollectorError(
                .unprocessable,
                "\(location) holds \(stored.size) bytes, the manifest says \(manifest.sealedSize): the stored segment is not the one that was sealed (upload it again)"
            )
        }
        guard stored.sha256 == manifest.sealedSha256 else {
            throw CollectorError(
                .unprocessable,
                "\(location) has SHA-256 \(stored.sha256), the manifest says \(manifest.sealedSha256): the stored segment was altered or damaged (upload it again)"
            )
        }
        return objectPath
    }

    /// Where the agent stored the manifest: beside its segment, `X.json` for `X.webm.p7m`.
    static func manifestPath(of manifest: SegmentManifest) -> [String] {
        let segment = objectPath(of: manifest)
        return segment.dropLast() + [StorageLayout.manifestName(ofSegment: segment.last!)]
    }

    /// Where the agent stored the segment (the storage layout contract, `StorageLayout`).
    static func objectPath(of manifest: SegmentManifest) -> [String] {
        StorageLayout.directory(
            nodePath: manifest.nodePath, firstFrameTime: manifest.firstFrameTime, agentId: manifest.agentId,
            callId: manifest.callIds.first) + [StorageLayout.sanitize(manifest.segmentFile)]
    }

    /// A version 1 manifest with sane values, or a 400 that names the problem. Unknown fields are
    /// refused: the signature covers only the known ones, so anything else would be unsigned.
    static func parseManifest(_ bytes: Data) throws -> SegmentManifest {
        guard bytes.count <= maximumManifestBytes else {
            throw CollectorError(
                .tooLarge, "a manifest is at most \(maximumManifestBytes) bytes; this one is \(bytes.count)")
        }
        let manifest: SegmentManifest
        do {
            manifest = try StrictJSON.decode(SegmentManifest.self, from: bytes)
        } catch {
            throw CollectorError(
                .invalid, "not a version 1 segment manifest (send the file as the agent wrote it): \(error.message)")
        }
        guard manifest.version == 1 else {
            throw CollectorError(.invalid, "manifest version \(manifest.version) is not supported; expected 1")
        }
        let hex = Set("0123456789abcdef")
        func check(_ condition: Bool, _ message: String) throws {
            if !condition { throw CollectorError(.invalid, message) }
        }
        try check(manifest.sequence >= 1, "sequence must be 1 or more, found \(manifest.sequence)")
        try check(
            manifest.segmentFile.hasSuffix(".webm.p7m")
                && StorageLayout.sanitize(manifest.segmentFile) == manifest.segmentFile,
            "segmentFile \"\(manifest.segmentFile)\" is not a sealed segment's file name")
        try check(
            manifest.sealedSha256.count == 64 && manifest.sealedSha256.allSatisfy(hex.contains),
            "sealedSha256 must be 64 lower-case hex digits")
        try check(manifest.sealedSize > 0, "sealedSize must be positive")
        try check(
            manifest.previousManifestSha256.map { $0.count == 64 && $0.allSatisfy(hex.contains) } ?? true,
            "previousManifestSha256 must be 64 lower-case hex digits or absent")
        for (name, time) in [("firstFrameTime", manifest.firstFrameTime), ("lastFrameTime", manifest.lastFrameTime)] {
            try check(Timestamp.date(time) != nil, "\(name) \"\(time)\" is not an RFC 3339 time")
        }
        try check(
            [manifest.durationMs, manifest.frameCount, manifest.width, manifest.height].allSatisfy { $0 >= 0 },
            "durations, frame counts and sizes cannot be negative")
        try check(
            (1...16384).contains(manifest.width) && (1...16384).contains(manifest.height),
            "width and height are 1 to 16384 pixels, found \(manifest.width)×\(manifest.height)")
        try check(manifest.callIds.count <= 100, "at most 100 call ids per segment")
        if let monitor = manifest.monitor {
            try check(
                !monitor.isEmpty && monitor.unicodeScalars.count <= 64 && !monitor.unicodeScalars.contains(where: OutsideText.isUnsafe),
                "monitor must be 1 to 64 characters without control or invisible ones")
        }
        let legs = manifest.legs ?? []
        try check(legs.count <= 100, "at most 100 legs per segment, found \(legs.count)")
        try check((manifest.holds ?? []).count <= 1000, "at most 1000 hold intervals per segment")
        // Ids come from CTI feeds through the agent: bounded and visible, like the events they came in.
        for id in manifest.callIds + legs.flatMap({ [$0.interactionId, $0.legId] }) {
            try check(
                (1...256).contains(id.count) && !id.unicodeScalars.contains(where: OutsideText.isUnsafe),
                "call and leg ids are 1 to 256 visible characters; found \"\(OutsideText.bounded(id, limit: 80))\"")
        }
        for leg in legs {
            try check(
                manifest.callIds.contains(leg.interactionId),
                "leg \(OutsideText.bounded(leg.legId, limit: 80)) names interaction \(OutsideText.bounded(leg.interactionId, limit: 80)), which is not among the segment's callIds")
        }
        for hold in manifest.holds ?? [] {
            try check(
                legs.contains(CallLeg(interactionId: hold.interactionId, legId: hold.legId)),
                "a hold names leg \(OutsideText.bounded(hold.legId, limit: 80)), which is not among the segment's legs")
            // Only the shape is refused. A refused manifest blocks every later upload of its agent (the
            // spool goes in order), so where a hold lies is not judged here: a wall-clock step or a
            // millisecond of rounding at a cut must not stop a workstation's recordings. Readers clip
            // holds to their segment and order their ends by instant.
            guard Timestamp.date(hold.from) != nil, Timestamp.date(hold.to) != nil else {
                throw CollectorError(.invalid, "a hold's from and to must be RFC 3339 times with a zone")
            }
        }
        return manifest
    }
}
