import CollectorCore
import Foundation
import StorageClient
import TestSupport
import Testing

/// External WebDAV targets as the collector uses them: the admin's "test" probe against a real Apache
/// `mod_dav` (passing, wrong password, server down), and intake and reindex of segments an agent
/// stored there.
@Suite(.serialized)
struct StorageTargetTests {
    func addApacheTarget(_ collector: Collector, _ apache: ApacheDAVServer, password: String? = nil) async throws {
        _ = try await collector.storageTargets.create(
            StorageTargetInput(
                name: "paris-dav", kind: .webdav, url: apache.baseURL, auth: .digest, username: apache.user,
                password: password ?? apache.password, caPEM: try String(contentsOfFile: apache.caFile, encoding: .utf8)
            ),
            by: adminActor)
    }

    @Test func theProbeSaysWhichStepFailedAndWhy() async throws {
        let apache = try ApacheDAVServer()
        defer { apache.stop() }
        let collector = try await makeCollector(.sqlite)
        defer { Task { await collector.close() } }

        let builtin = try await collector.testStorage(named: "builtin", by: adminActor)
        #expect(builtin.ok && builtin.steps.map(\.name) == ["MKCOL", "PUT", "PROPFIND", "GET", "DELETE"], "\(builtin)")

        try await addApacheTarget(collector, apache)
        let passing = try await collector.testStorage(named: "paris-dav", by: adminActor)
        #expect(passing.ok, "\(passing.steps)")
        #expect(passing.steps.map(\.name) == ["MKCOL", "PUT", "PROPFIND", "GET", "DELETE"])
        #expect(passing.steps[3].detail.contains("identical"))
        let leftovers = try FileManager.default.contentsOfDirectory(
            atPath: apache.documentRoot.appendingPathComponent("dav").path)
        #expect(leftovers.isEmpty, "the probe cleans up: \(leftovers)")

        _ = try await collector.storageTargets.update(
            "paris-dav", StorageTargetInput(password: "not the password"), by: adminActor)
        let refused = try await collector.testStorage(named: "paris-dav", by: adminActor)
        #expect(!refused.ok && refused.steps.count == 1 && refused.steps[0].name == "MKCOL")
        #expect(
            refused.steps[0].detail.contains("HTTP 401") && refused.steps[0].detail.contains("credentials"),
            "\(refused.steps)")
        #expect(!refused.steps[0].detail.contains("not the password"), "secrets never appear in reports")

        _ = try await collector.storageTargets.update(
            "paris-dav", StorageTargetInput(password: apache.password), by: adminActor)
        apache.stop()
        let down = try await collector.testStorage(named: "paris-dav", by: adminActor)
        #expect(!down.ok && down.steps.count == 1, "\(down.steps)")
        #expect(down.steps[0].detail.contains("127.0.0.1:\(apache.port)"), "\(down.steps)")

        let audit = try await AuditLog.entries(in: collector.catalog.sql).filter { $0.action == "storage.test" }
        #expect(audit.map(\.detail).sorted() == ["failed at MKCOL", "failed at MKCOL", "passed", "passed"])
    }

    @Test(arguments: Backend.allCases)
    func segmentsOnAnExternalTargetAreVerifiedThereAndReindexed(_ backend: Backend) async throws {
        let apache = try ApacheDAVServer()
        defer { apache.stop() }
        let collector = try await makeCollector(backend)
        try await addApacheTarget(collector, apache)
        _ = try await collector.nodePaths.create(
            NodePathInput(path: "/emea/paris", storage: "paris-dav"), by: adminActor)
        let agent = SimulatedAgent(id: "ws-paris-1", nodePath: "/emea/paris/sales")
        _ = try await agent.enrol(with: collector, actor: adminActor)
        let enrolled = try await collector.agents.get(agent.id)
        let client = WebDAVClient(
            target: StorageTarget(
                baseURL: apache.baseURL, credentials: .digest(user: apache.user, password: apache.password),
                caFile: apache.caFile))
        for _ in 1...3 {
            let segment = try agent.nextSegment(callId: "c-1")
            try agent.upload(segment, with: client)
            guard
                case .added(let row) = try await collector.acceptManifest(
                    segment.manifestBytes, from: enrolled, source: "127.0.0.1")
            else { Issue.record("not added"); continue }
            #expect(row.storageTarget == "paris-dav")
        }
        // A segment reported before it reached the target is refused, and says where it looked.
        let early = try agent.nextSegment()
        await #expect(throws: AdminError.self) {
            try await collector.acceptManifest(early.manifestBytes, from: enrolled, source: "127.0.0.1")
        }
        let rows = try await collector.segments.all()
        #expect(rows.map(\.chain) == [.first, .linked, .linked])
        let directory = collector.dataDirectory
        await collector.close()

        // A lost catalog: the admin adds the target again under the same name, then reindexes.
        let rebuilt = try await makeCollector(backend, directory: directory)
        defer { Task { await rebuilt.close() } }
        try await addApacheTarget(rebuilt, apache)
        let report = try await rebuilt.reindex(by: adminActor)
        #expect(report.targets.sorted() == ["builtin", "paris-dav"])
        #expect(report.added == 3 && report.isClean, "\(report.refused)")
        func comparable(_ rows: [SegmentRecord]) -> [SegmentRecord] {
            rows.map {
                var row = $0
                row.indexedAt = ""
                return row
            }
        }
        #expect(comparable(try await rebuilt.segments.all()) == comparable(rows))
    }
}
