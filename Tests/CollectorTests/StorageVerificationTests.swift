import CollectorCore
import Foundation
import TestSupport
import TestTraits
import Testing
import WebDAV

/// `verify-storage` finds what changed behind the catalog's back: a segment altered on disk, a
/// manifest deleted, a file nobody catalogued; and the CLI exits 1 saying so.
@Suite(.serialized, .realTime)
struct StorageVerificationTests {
    @Test(arguments: Backend.allCases)
    func alteredMissingAndUnknownObjectsAreReported(_ backend: Backend) async throws {
        let collector = try await makeCollector(backend)
        let agent = SimulatedAgent(id: "ws-verify", nodePath: "/emea")
        let segments = try await ReindexTests().recordSegments(collector, agent)
        let clean = try await collector.verifyStorage(by: adminActor)
        #expect(clean.isClean && clean.segmentsChecked == 5, "\(clean.missing) \(clean.altered) \(clean.unknown)")

        let store = try collector.builtinStore()
        let first = store.url(StorePath(components: segments[0].objectPath))
        var bytes = try Data(contentsOf: first)
        bytes[10] ^= 0xFF
        try bytes.write(to: first)
        try FileManager.default.removeItem(
            at: SimulatedAgent.manifestURL(of: store.url(StorePath(components: segments[1].objectPath))))
        let directory = first.deletingLastPathComponent()
        try Data("stray".utf8).write(to: directory.appendingPathComponent("planted.bin"))
        try Data("half".utf8).write(to: directory.appendingPathComponent("x.webm.p7m.uploading"))

        let report = try await collector.verifyStorage(by: adminActor)
        #expect(report.altered.count == 1 && report.altered[0].location.contains(segments[0].manifest.segmentFile))
        #expect(report.missing.count == 1 && report.missing[0].problem.contains("manifest"), "\(report.missing)")
        #expect(report.unknown.map(\.location).contains { $0.hasSuffix("planted.bin") } && report.unknown.count == 1)
        #expect(report.incompleteUploads.count == 1)
        let audit = try await AuditLog.entries(limit: 5, in: collector.catalog.sql)
        #expect(audit.first?.action == "storage.verify")
        let data = collector.dataDirectory.path
        await collector.close()

        if backend == .sqlite {
            let cli = try ProcessRunner.run(
                ProcessRunner.product("recorder-collector"), ["verify-storage", "--data-dir", data])
            #expect(
                cli.status == 1 && cli.stdout.contains("altered: 1") && cli.stdout.contains("does NOT match"),
                "\(cli.stdout)")
        }
    }
}
