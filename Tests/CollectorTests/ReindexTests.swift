import CollectorCore
import Foundation
import TestSupport
import TestTraits
import Testing
import WebDAV

/// `reindex` rebuilds the catalog from storage: the same rows after the database is lost, nothing
/// recorded that intake would refuse, and a report of what storage lacks.
@Suite(.serialized, .realTime)
struct ReindexTests {
    /// Four chained segments, a fifth naming the wrong predecessor, all reported through intake.
    func recordSegments(_ collector: Collector, _ agent: SimulatedAgent) async throws -> [SimulatedAgent.Segment] {
        _ = try await agent.enrol(with: collector, actor: adminActor)
        let enrolled = try await collector.agents.get(agent.id)
        var segments = try (1...4).map { index in try agent.nextSegment(callId: index < 3 ? "call-1" : "call-2") }
        segments.append(try agent.nextSegment { $0.previousManifestSha256 = String(repeating: "a", count: 64) })
        for segment in segments {
            try agent.upload(segment, to: collector)
            _ = try await collector.acceptManifest(segment.manifestBytes, from: enrolled, source: "127.0.0.1")
        }
        return segments
    }

    func withoutIndexTime(_ rows: [SegmentRecord]) -> [SegmentRecord] {
        rows.map {
            var row = $0
            row.indexedAt = ""
            return row
        }
    }

    @Test(arguments: Backend.allCases)
    func aLostCatalogComesBackWithTheSameRows(_ backend: Backend) async throws {
        let original = try await makeCollector(backend)
        let agent = SimulatedAgent(id: "ws-9", nodePath: "/emea/paris")
        _ = try await recordSegments(original, agent)
        let rows = try await original.segments.all()
        #expect(rows.map(\.chain) == [.first, .linked, .linked, .linked, .broken])

        let again = try await original.reindex(by: adminActor)
        #expect(again.manifestsFound == 5 && again.alreadyPresent == 5 && again.added == 0 && again.isClean)
        #expect(again.selfSignedAgents.isEmpty, "an enrolled agent is checked against its enrolled key")
        #expect(try await original.segments.all() == rows, "a second reindex changes nothing")
        let directory = original.dataDirectory
        await original.close()

        // The database is gone; the store and the data directory remain.
        try await withCollector(backend, directory: directory) { rebuilt in
            #expect(try await rebuilt.segments.all().isEmpty)
            let report = try await rebuilt.reindex(by: adminActor)
            #expect(report.added == 5 && report.isClean, "\(report.refused)")
            #expect(report.selfSignedAgents == ["ws-9"], "the agent is unknown to the new catalog")
            #expect(withoutIndexTime(try await rebuilt.segments.all()) == withoutIndexTime(rows))
            #expect(try await rebuilt.segments.list(.init(callId: "call-2")).map(\.sequence) == [3, 4])
        }
    }

    /// After a lost database, a manifest forged in the name of agent B and placed in agent A's area
    /// (A could write there) is refused for its location, and B's genuine manifests are all recorded.
    @Test(arguments: Backend.allCases)
    func aManifestOutOfPlaceIsRefusedWithoutHarmingTheGenuineOnes(_ backend: Backend) async throws {
        let original = try await makeCollector(backend)
        let alice = SimulatedAgent(id: "ws-alice", nodePath: "/emea")
        let bob = SimulatedAgent(id: "ws-bob", nodePath: "/emea")
        _ = try await recordSegments(original, alice)
        _ = try await recordSegments(original, bob)
        let directory = original.dataDirectory
        await original.close()

        let forger = SimulatedAgent(id: "ws-bob", nodePath: "/emea")
        let forged = try forger.nextSegment()
        var placed = forged
        placed.manifest.agentId = "ws-alice"  // only to compute alice's directory for the file
        let store = directory.appendingPathComponent("store")
        let aliceDirectory = placed.objectPath.dropLast().reduce(store) { $0.appendingPathComponent($1) }
        try FileManager.default.createDirectory(at: aliceDirectory, withIntermediateDirectories: true)
        try forged.sealed.write(to: aliceDirectory.appendingPathComponent(forged.manifest.segmentFile))
        try forged.manifestBytes.write(to: aliceDirectory.appendingPathComponent("forged.json"))

        let rebuilt = try await makeCollector(backend, directory: directory)
        let report = try await rebuilt.reindex(by: adminActor)
        #expect(report.refused.count == 1 && report.refused[0].reason.contains("belongs at"), "\(report.refused)")
        #expect(report.added == 10, "every genuine manifest of both agents: \(report.refused)")
        #expect(Set(report.selfSignedAgents) == ["ws-alice", "ws-bob"])
        await rebuilt.close()
    }

    @Test(arguments: Backend.allCases)
    func reindexRefusesWhatIntakeWouldAndReportsWhatStorageLacks(_ backend: Backend) async throws {
        let collector = try await makeCollector(backend)
        let agent = SimulatedAgent(id: "ws-10", nodePath: "/")
        let segments = try await recordSegments(collector, agent)
        let store = try collector.builtinStore()
        func url(_ segment: SimulatedAgent.Segment) -> URL { store.url(StorePath(components: segment.objectPath)) }

        // The manifest of segment 2 is deleted from storage, segment 3's object is damaged, and a
        // stranger's file lies among the manifests.
        try FileManager.default.removeItem(at: SimulatedAgent.manifestURL(of: url(segments[1])))
        var damaged = segments[2].sealed
        damaged[0] ^= 1
        try damaged.write(to: url(segments[2]))
        try Data("{\"hello\":1}".utf8).write(
            to: url(segments[0]).deletingLastPathComponent().appendingPathComponent("notes.json"))

        let report = try await collector.reindex(by: adminActor)
        #expect(report.missingFromStorage.map(\.sequence) == [2])
        #expect(
            report.refused.count == 1 && report.refused[0].reason.contains("not a version 1 segment manifest"),
            "\(report.refused)")
        #expect(!report.isClean)
        let directory = collector.dataDirectory
        await collector.close()

        try await withCollector(backend, directory: directory) { rebuilt in
            let fresh = try await rebuilt.reindex(by: adminActor)
            let reasons = fresh.refused.map(\.reason).joined(separator: "\n")
            #expect(reasons.contains("altered or damaged"), "\(reasons)")
            #expect(fresh.added == 3, "segments 1, 4 and 5; 3 refused, 2 has no manifest: \(fresh.added)")
            let chain = try await rebuilt.segments.all().map { "\($0.sequence):\($0.chain.rawValue)" }
            #expect(chain == ["1:first", "4:pending", "5:broken"], "4 waits for the missing 3")
        }
    }
}
