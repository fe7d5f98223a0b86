import Foundation
import Logging
import RecorderCore
import TestSupport
import TestTraits
import Testing

@testable import RecorderAgent

/// The journal of the segment in progress, from a real recording: what a kill leaves of it is a
/// playable sealed segment, and recovering it is safe to interrupt at every durable step.
@Suite(.serialized, .realTime)
struct JournalRecoveryTests {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)")

    /// A sealed recording, stored as the agent stores it; returns a copy of its journal taken once it
    /// holds `copyAfterMs` of recording (the bytes a SIGKILL then leaves: written, not yet synced),
    /// with that closing's duration.
    func record(copyAfterMs: Double, keys: TestKeyPair) async throws -> (journal: URL, spool: URL, killedAt: Int64, journaledMs: Double) {
        let xvfb = try XvfbServer(width: 1024, height: 576)
        let scene = try SceneProcess(display: xvfb.display, scene: "rectangles", seconds: 60, period: 1)
        defer { scene.stop() }
        _ = try scene.waitForEvents(1)
        let journals = base.appendingPathComponent("state/journal")
        let spool = try directory(base.appendingPathComponent("spool"), state: base.appendingPathComponent("state"), keys: keys)
        var settings = RecordingSettings()
        settings.framesPerSecond = 5
        let recorder = ScreenRecorder(
            displayName: xvfb.display, settings: settings,
            journaling: SegmentJournaling(recipients: spool.recipients, directory: journals), logger: Logger(label: "journal"))
        _ = try await recorder.start(duration: nil)
        let storing = Task {
            for await segment in recorder.segments { _ = try spool.write(segment) }
        }
        var copied: (URL, Int64, Double)?
        for _ in 0..<600 where copied == nil {
            try await Task.sleep(for: .milliseconds(50))
            let names = (try? FileManager.default.contentsOfDirectory(atPath: journals.path))?.filter { $0.hasSuffix(".journal") } ?? []
            guard let name = names.first else { continue }
            let killedAt = Int64(Date().timeIntervalSince1970 * 1e9)
            let bytes = try [UInt8](Data(contentsOf: journals.appendingPathComponent(name)))
            let contents = try SegmentJournal.read(bytes)
            guard contents.closing != nil,
                let progress = try? JSONDecoder().decode(JournalProgress.self, from: Data(contents.closingState)),
                progress.durationMs >= copyAfterMs
            else { continue }
            #expect(names.count == 1, "one journal while recording: \(names)")
            let copy = base.appendingPathComponent("killed/\(name)")
            try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: copy)
            copied = (copy, killedAt, progress.durationMs)
        }
        recorder.stop()
        _ = try await recorder.finished()
        try await storing.value
        let left = try FileManager.default.contentsOfDirectory(atPath: journals.path).filter { $0.hasSuffix(".journal") }
        #expect(left.isEmpty, "a stored segment's journal is removed: \(left)")
        let (journal, killedAt, journaledMs) = try #require(copied, "the journal never held \(copyAfterMs) ms")
        return (journal, spool.url, killedAt, journaledMs)
    }

    func directory(_ spool: URL, state: URL, keys: TestKeyPair) throws -> SegmentDirectory {
        try SegmentDirectory(
            path: spool.path, recipients: [try SealingRecipient(certificatePEM: try keys.certificatePEM)],
            chain: try ManifestChain(stateDirectory: state.path, agentId: "ws-j", nodePath: "/"))
    }

    /// What the agent does at start: the head, the journals, then orphaned sealed files.
    func recover(_ root: URL, keys: TestKeyPair) throws -> JournalRecovery.Report {
        let spool = try directory(root.appendingPathComponent("spool"), state: root.appendingPathComponent("state"), keys: keys)
        _ = try spool.chain!.recoverHead(spool: spool.url)
        let report = try JournalRecovery(
            directory: root.appendingPathComponent("state/journal"), spool: spool, logger: Logger(label: "recovery")
        ).run()
        #expect(try spool.chain!.reattestOrphans(spool: spool.url) == [], "nothing left to re-attest")
        return report
    }

    func manifests(_ spool: URL) throws -> [SegmentManifest] {
        try FileManager.default.contentsOfDirectory(atPath: spool.path).filter { $0.hasSuffix(".json") }.sorted().map {
            try JSONDecoder().decode(SegmentManifest.self, from: Data(contentsOf: spool.appendingPathComponent($0)))
        }
    }

    func copyTree(_ from: URL, _ to: URL) throws {
        try? FileManager.default.removeItem(at: to)
        try FileManager.default.copyItem(at: from, to: to)
    }

    @Test func aKilledRecordingsJournalRecoversIntoAPlayableSegmentAndRecoveryCanBeInterruptedAnywhere() async throws {
        defer { try? FileManager.default.removeItem(at: base) }
        let keys = try TestKeyPair(name: "journal key")
        let recorded = try await record(copyAfterMs: 2000, keys: keys)
        let finished = try manifests(recorded.spool)
        try #require(finished.count == 1)

        // The workstation after the kill: its state directory holds the journal, its spool nothing yet.
        let crashed = base.appendingPathComponent("crashed")
        try FileManager.default.createDirectory(at: crashed.appendingPathComponent("state/journal"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: recorded.journal, to: crashed.appendingPathComponent("state/journal/\(recorded.journal.lastPathComponent)"))
        let pristine = base.appendingPathComponent("pristine")
        try copyTree(crashed, pristine)

        let report = try recover(crashed, keys: keys)
        #expect(report.recovered.count == 1 && report.setAside.isEmpty, "\(report)")
        let spool = crashed.appendingPathComponent("spool")
        let recovered = try manifests(spool)
        try #require(recovered.count == 1)
        let manifest = recovered[0]
        #expect(manifest.endReason == "recovered")
        #expect(manifest.firstFrameTime == finished[0].firstFrameTime, "the same segment's start")
        let recovery = try #require(manifest.recovery)
        #expect(recovery.lostAtMostMs == 2000)
        // Everything up to the journal's last checkpoint.
        #expect(manifest.durationMs == Int(recorded.journaledMs.rounded()), "\(manifest.durationMs) ms, journaled \(recorded.journaledMs)")
        #expect(recovery.recordedUntil <= SegmentManifest.timestamp(unixNanos: recorded.killedAt), "\(recovery)")
        #expect(try ManifestDirectoryVerifier.verify(directory: spool).isIntact)
        #expect(try FileManager.default.contentsOfDirectory(atPath: crashed.appendingPathComponent("state/journal").path).isEmpty)

        // It opens with openssl, plays, and lasts what its manifest says.
        let plain = base.appendingPathComponent("recovered.webm").path
        let opened = try ProcessRunner.run(
            "openssl",
            [
                "cms", "-decrypt", "-inform", "DER", "-in", spool.appendingPathComponent(manifest.segmentFile).path,
                "-recip", keys.certificate.path, "-inkey", keys.privateKey.path, "-out", plain,
            ])
        #expect(opened.status == 0, "\(opened.stderr)")
        let probe = MediaProbe(path: plain)
        #expect(try probe.decodeErrors() == "")
        let duration = Double(try probe.probe().format.duration ?? "0") ?? 0
        #expect(abs(duration * 1000 - Double(manifest.durationMs)) <= 200, "ffprobe \(duration) s, manifest \(manifest.durationMs) ms")
        #expect(try probe.summary().blocks.count == manifest.frameCount)

        // Interrupted after the head moved, before the journal went: the segment is not stored twice.
        let stored = base.appendingPathComponent("stored")
        try copyTree(crashed, stored)
        try FileManager.default.copyItem(
            at: pristine.appendingPathComponent("state/journal"), to: stored.appendingPathComponent("state/journal-again"))
        try FileManager.default.removeItem(at: stored.appendingPathComponent("state/journal"))
        try FileManager.default.moveItem(
            at: stored.appendingPathComponent("state/journal-again"), to: stored.appendingPathComponent("state/journal"))
        let again = try recover(stored, keys: keys)
        #expect(again.alreadyStored == 1 && again.recovered.isEmpty, "\(again)")
        #expect(try manifests(stored.appendingPathComponent("spool")).count == 1)

        // Interrupted after the manifest, before the head moved: adopted, not stored twice.
        let written = base.appendingPathComponent("written")
        try copyTree(stored, written)
        try copyTree(pristine.appendingPathComponent("state/journal"), written.appendingPathComponent("state/journal"))
        try FileManager.default.removeItem(at: written.appendingPathComponent("state/chain.json"))
        let adopted = try recover(written, keys: keys)
        #expect(adopted.alreadyStored == 1, "\(adopted)")
        #expect(try manifests(written.appendingPathComponent("spool")).count == 1)

        // Interrupted after the sealed file, before its manifest: the same file gets its full manifest,
        // not a second copy nor a re-attestation with unknown times.
        let sealedOnly = base.appendingPathComponent("sealed-only")
        try copyTree(written, sealedOnly)
        try copyTree(pristine.appendingPathComponent("state/journal"), sealedOnly.appendingPathComponent("state/journal"))
        try FileManager.default.removeItem(at: sealedOnly.appendingPathComponent("state/chain.json"))
        try FileManager.default.removeItem(
            at: sealedOnly.appendingPathComponent("spool/\(StorageLayout.manifestName(ofSegment: manifest.segmentFile))"))
        try Data("torn".utf8).write(to: sealedOnly.appendingPathComponent("spool/.\(manifest.segmentFile).tmp"))
        let rewritten = try recover(sealedOnly, keys: keys)
        #expect(rewritten.recovered == [manifest.segmentFile], "\(rewritten)")
        let after = try manifests(sealedOnly.appendingPathComponent("spool"))
        #expect(after.count == 1 && after.first?.durationMs == manifest.durationMs, "\(after)")
        #expect(try ManifestDirectoryVerifier.verify(directory: sealedOnly.appendingPathComponent("spool")).isIntact)
    }

    @Test func aJournalThatCannotBeRecoveredIsKeptAsideAndReported() throws {
        defer { try? FileManager.default.removeItem(at: base) }
        let keys = try TestKeyPair(name: "journal key")
        let journals = base.appendingPathComponent("state/journal")
        try FileManager.default.createDirectory(at: journals, withIntermediateDirectories: true)
        // Not a journal at all, and one torn inside its start record.
        try Data("garbage".utf8).write(to: journals.appendingPathComponent("20261202T100000.000Z-0001-aaaa.journal"))
        var torn = Array("JRNL".utf8) + [1, 1, 0, 0, 0, 40]
        torn += [UInt8](repeating: 7, count: 20)
        try Data(torn).write(to: journals.appendingPathComponent("20261202T100001.000Z-0002-bbbb.journal"))
        let report = try recover(base, keys: keys)
        #expect(report.setAside.count == 2 && report.recovered.isEmpty, "\(report)")
        #expect(report.setAside[0].contains("not a segment journal"), "\(report.setAside)")
        let aside = try FileManager.default.contentsOfDirectory(atPath: journals.appendingPathComponent("unrecoverable").path)
        #expect(aside.sorted() == ["20261202T100000.000Z-0001-aaaa.journal", "20261202T100001.000Z-0002-bbbb.journal"])
        #expect(try manifests(base.appendingPathComponent("spool")).isEmpty)
    }
}
