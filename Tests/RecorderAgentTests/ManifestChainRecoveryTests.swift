import Foundation
import RecorderCore
import TestSupport
import Testing

@testable import RecorderAgent

/// Every crash point of a segment write leaves a spool that `recover` turns back into an intact chain.
struct ManifestChainRecoveryTests {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("recover-\(UUID().uuidString)")
    var spool: URL { base.appendingPathComponent("spool") }
    var state: String { base.appendingPathComponent("state").path }

    func segment(_ sequence: Int) -> RecordedSegment {
        RecordedSegment(
            sequence: sequence, content: .plain(Array(repeating: UInt8(sequence), count: 1000)),
            startWallTimeNanos: 1_795_435_200_000_000_000 + Int64(sequence) * 1_000_000_000, durationMs: 1000,
            lastFrameOffsetMs: 800, width: 320, height: 240, frameCount: 5, endReason: .lengthLimit)
    }

    func directory() throws -> SegmentDirectory {
        let keys = try TestKeyPair(name: "recovery")
        return try SegmentDirectory(
            path: spool.path, recipients: [try SealingRecipient(certificatePEM: try keys.certificatePEM)],
            chain: try ManifestChain(stateDirectory: state, agentId: "ws-r", nodePath: "/"))
    }

    func reopenChain() throws -> ManifestChain {
        try ManifestChain(stateDirectory: state, agentId: "ws-r", nodePath: "/")
    }

    /// The monitor a segment was captured from goes into its signed manifest; the whole screen writes
    /// no key, so older manifests keep their bytes.
    @Test func theMonitorCapturedIsInTheManifest() throws {
        let directory = try directory()
        var one = segment(1)
        one.monitor = "DP-1"
        _ = try directory.write(one)
        _ = try directory.write(segment(2))
        let names = try FileManager.default.contentsOfDirectory(atPath: spool.path).filter { $0.hasSuffix(".json") }.sorted()
        let texts = try names.map { try String(contentsOf: spool.appendingPathComponent($0), encoding: .utf8) }
        #expect(texts.count == 2 && texts[0].contains(#""monitor":"DP-1""#) && !texts[1].contains("monitor"), "\(texts)")
        #expect(try ManifestDirectoryVerifier.verify(directory: spool).isIntact, "signed with it")
    }

    @Test func crashBetweenSealedFileAndManifestIsReattested() throws {
        let directory = try directory()
        _ = try directory.write(segment(1))
        _ = try directory.write(segment(2))
        // Crash after the sealed file of segment 3 reached the disk, before its manifest did.
        let orphan = spool.appendingPathComponent("20261123T120003.000Z-0003.webm.p7m")
        try Data(repeating: 3, count: 500).write(to: orphan)
        try Data("torn".utf8).write(to: spool.appendingPathComponent(".20261123T120004.000Z-0004.webm.p7m.tmp"))

        let recovery = try reopenChain().recover(spool: spool)
        #expect(recovery.reattestedSegments == [orphan.lastPathComponent])
        #expect(recovery.removedTemporaryFiles == 1)
        let report = try ManifestDirectoryVerifier.verify(directory: spool)
        #expect(report.isIntact, "\(report.problems)")
        #expect(report.manifestsChecked == 3)
        let manifest = try JSONDecoder().decode(
            SegmentManifest.self, from: Data(contentsOf: spool.appendingPathComponent("20261123T120003.000Z-0003.json"))
        )
        #expect(manifest.endReason == "recovered")
        #expect(manifest.firstFrameTime == "2026-11-23T12:00:03.000Z")
    }

    @Test func crashBeforeTheHeadMovedAdoptsTheWrittenManifest() throws {
        let directory = try directory()
        _ = try directory.write(segment(1))
        let headBefore = try Data(contentsOf: URL(fileURLWithPath: state).appendingPathComponent("chain.json"))
        _ = try directory.write(segment(2))
        // Crash after both files of segment 2 were written, before chain.json moved.
        try headBefore.write(to: URL(fileURLWithPath: state).appendingPathComponent("chain.json"))

        let chain = try reopenChain()
        let recovery = try chain.recover(spool: spool)
        #expect(recovery.adoptedManifests == 1)
        let next = try SegmentDirectory(path: spool.path, recipients: directory.recipients, chain: chain)
        _ = try next.write(segment(3))
        let report = try ManifestDirectoryVerifier.verify(directory: spool)
        #expect(report.isIntact, "no fork, no gap: \(report.problems)")
        #expect(report.manifestsChecked == 3)
    }
}
