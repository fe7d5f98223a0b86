import CollectorCore
import Foundation
import StorageClient
import TestSupport
import TestTraits
import Testing

/// External WebDAV targets as the collector uses them: the admin's "test" probe against a real Apache
/// `mod_dav` (passing, wrong password, server down), and intake and reindex of segments an agent
/// stored there.
@Suite(.serialized, .realTime)
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
        try await withCollector(.sqlite) { collector in

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
        await #expect(throws: CollectorError.self) {
            try await collector.acceptManifest(early.manifestBytes, from: enrolled, source: "127.0.0.1")
        }
        let rows = try await collector.segments.all()
        #expect(rows.map(\.chain) == [.first, .linked, .linked])
        let directory = collector.dataDirectory
        await collector.close()

        // A lost catalog: the admin adds the target again under the same name, then reindexes.
        try await withCollector(backend, directory: directory) { rebuilt in
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

    /// A target whose agents must use their own accounts: an agent without one gets no configuration
    /// (and a message saying what to do), an agent with one receives only its own, and Apache, set up
    /// as the admin guide says, keeps each agent's account out of the other agents' directories.
    @Test(arguments: Backend.allCases)
    func agentsUploadWithTheirOwnAccounts(_ backend: Backend) async throws {
        let apache = try ApacheDAVServer(agentAccounts: ["ws-own-a": "pw-a", "ws-own-b": "pw-b"])
        defer { apache.stop() }
        try await withCollector(backend) { collector in
            _ = try await collector.storageTargets.create(
                StorageTargetInput(
                    name: "paris-dav", kind: .webdav, url: apache.baseURL, auth: .digest, username: apache.user,
                    password: apache.password, caPEM: try String(contentsOfFile: apache.caFile, encoding: .utf8),
                    agentCredentials: .own),
                by: adminActor)
            _ = try await collector.nodePaths.create(NodePathInput(path: "/paris", storage: "paris-dav"), by: adminActor)
            let a = SimulatedAgent(id: "ws-own-a", nodePath: "/paris")
            let b = SimulatedAgent(id: "ws-own-b", nodePath: "/paris")
            _ = try await a.enrol(with: collector, actor: adminActor)
            _ = try await b.enrol(with: collector, actor: adminActor)
            let agentA = try await collector.agents.get(a.id)
            let agentB = try await collector.agents.get(b.id)
            do {
                _ = try await collector.configuration(for: agentA, builtinURL: "https://unused", builtinCAPEM: nil)
                Issue.record("an agent without its own account got a configuration")
            } catch let error as CollectorError {
                #expect(error.message.contains("storage-credentials set ws-own-a paris-dav"), "\(error.message)")
            }
            await #expect(throws: CollectorError.self, "the built-in store takes no credentials") {
                try await collector.agentStorageCredentials.set(
                    agentId: a.id, target: "builtin", .init(username: "x", password: "y"), by: adminActor)
            }
            await #expect(throws: CollectorError.self, "a digest target needs a user name") {
                try await collector.agentStorageCredentials.set(
                    agentId: a.id, target: "paris-dav", .init(bearerToken: "t"), by: adminActor)
            }
            for (agent, password) in [(a, "pw-a"), (b, "pw-b")] {
                _ = try await collector.agentStorageCredentials.set(
                    agentId: agent.id, target: "paris-dav", .init(username: agent.id, password: password), by: adminActor)
            }
            func client(_ agent: Agents.Agent) async throws -> WebDAVClient {
                let document = try await collector.configuration(
                    for: agent, builtinURL: "https://unused", builtinCAPEM: nil)
                let storage = document.storage
                #expect(storage.username == agent.id && storage.password != apache.password, "its own account only")
                return WebDAVClient(
                    target: StorageTarget(
                        baseURL: storage.url, credentials: .digest(user: storage.username!, password: storage.password!),
                        caFile: apache.caFile))
            }
            let segment = try a.nextSegment()
            try a.upload(segment, with: try await client(agentA))
            guard case .added = try await collector.acceptManifest(segment.manifestBytes, from: agentA, source: "127.0.0.1")
            else { Issue.record("A's segment was not catalogued"); return }
            // B's account cannot touch A's directory on the server.
            let intruder = try await client(agentB)
            #expect(throws: (any Error).self) {
                try intruder.put([UInt8]("forged".utf8), to: segment.objectPath)
            }
            #expect(throws: (any Error).self) { try intruder.delete(segment.objectPath) }
            let stored = try Data(
                contentsOf: apache.documentRoot.appendingPathComponent(
                    (["dav"] + segment.objectPath).joined(separator: "/")))
            #expect(stored == segment.sealed, "A's segment is untouched")

            #expect(try await collector.agentStorageCredentials.list().map(\.agentId) == [a.id, b.id])
            try await collector.agentStorageCredentials.remove(agentId: a.id, target: "paris-dav", by: adminActor)
            await #expect(throws: CollectorError.self) {
                try await collector.configuration(for: agentA, builtinURL: "https://unused", builtinCAPEM: nil)
            }
            let audit = try await AuditLog.entries(in: collector.catalog.sql).map(\.action)
            #expect(audit.filter { $0 == "agent.storage_credentials.set" }.count == 2)
            #expect(audit.contains("agent.storage_credentials.remove"))
            #expect(try await AuditLog.entries(in: collector.catalog.sql).allSatisfy { !$0.detail.contains("pw-") })
        }
    }
}
