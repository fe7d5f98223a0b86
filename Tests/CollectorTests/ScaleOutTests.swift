import CollectorCore
import Foundation
import Logging
import TestSupport
import TestTraits
import Testing

/// Collectors are stateless over PostgreSQL: two collector processes share one catalog, and an event
/// posted to one reaches an agent waiting on the other.
@Suite(.serialized, .realTime)
struct ScaleOutTests {
    @Test func anEventPostedToOneCollectorReachesAnAgentWaitingOnAnother() async throws {
        let database = try SharedPostgres.server.get().makeDatabase()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("scale-\(UUID().uuidString)")
        // The admin's part, through the collector's own code on the shared catalog.
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let setup = try await Collector.open(
            dataDirectory: directory.appendingPathComponent("a"), database: .postgres(url: database), hashing: .fast,
            recordingKeyBits: 2048, logger: logger)
        let agentToken = try await SimulatedAgent(id: "ws-far", nodePath: "/").enrol(with: setup, actor: adminActor)
        let (_, pbx) = try await setup.integrations.create(name: "pbx", kind: .webhook, by: adminActor)
        _ = try await setup.agentIdentities.set(integration: "pbx", externalId: "agent-7", agentId: "ws-far", by: adminActor)
        await setup.close()

        let a = try CollectorProcess(
            dataDirectory: directory.appendingPathComponent("a").path, arguments: ["--database", database, "--plain-http"])
        defer { a.stop() }
        let b = try CollectorProcess(
            dataDirectory: directory.appendingPathComponent("b").path, arguments: ["--database", database, "--plain-http"])
        defer { b.stop() }

        // The agent waits on B.
        let (poll, answer) = try ProcessRunner.launch(
            "/usr/bin/curl",
            ["-s", "-H", "Authorization: Bearer \(agentToken)", b.url + "/api/v1/agent/call-events?after=0&wait=20"])
        defer { ProcessRunner.kill(poll) }
        try await Task.sleep(for: .seconds(1))
        #expect(poll.isRunning, "B holds the request open while nothing is there: \((try? String(contentsOf: answer, encoding: .utf8)) ?? "")")

        // The phone system posts to A.
        let body =
            #"{"event_id":"far-1","type":"leg.started","occurred_at":"2026-12-01T10:00:00Z","interaction_id":"call-far","leg_id":"leg-1","agent_id":"agent-7"}"#
        let posted = try ProcessRunner.run(
            "curl",
            ["-s", "--fail-with-body", "-H", "Authorization: Bearer \(pbx)", "-H", "Content-Type: application/json",
             "--data-binary", body, a.url + "/api/v1/cti/events"])
        #expect(posted.status == 0 && posted.stdout.contains(#""accepted":1"#), "\(posted.stdout)")
        let deadline = Date().addingTimeInterval(15)
        while poll.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let text = (try? String(contentsOf: answer, encoding: .utf8)) ?? ""
        #expect(!poll.isRunning && text.contains(#""event_id":"far-1""#), "B answered with A's event: \(text)")

        // Both read the same call.
        for collector in [a, b] {
            let password = try #require(a.adminPassword)
            let login = try ProcessRunner.run(
                "curl",
                ["-s", "-H", "Content-Type: application/json", "--data-binary",
                 #"{"username":"admin","password":"\#(password)"}"#, collector.url + "/api/v1/auth/login"])
            let session = try #require(
                (try? JSONSerialization.jsonObject(with: Data(login.stdout.utf8)) as? [String: Any])?["token"] as? String,
                "\(login.stdout)")
            let call = try ProcessRunner.run(
                "curl", ["-s", "-H", "Authorization: Bearer \(session)", collector.url + "/api/v1/calls/call-far"])
            #expect(call.stdout.contains(#""workstation":"ws-far""#), "\(call.stdout)")
        }
    }

    /// The correlation job on two collectors over one PostgreSQL: every call is matched, and no call by
    /// both (each call's result counts the runs that wrote it).
    @Test func twoCollectorsShareTheCorrelationJobWithoutDoingOneCallTwice() async throws {
        let database = try SharedPostgres.server.get().makeDatabase()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("scale-\(UUID().uuidString)")
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let setup = try await Collector.open(
            dataDirectory: directory.appendingPathComponent("a"), database: .postgres(url: database), hashing: .fast,
            recordingKeyBits: 2048, logger: logger)
        let (_, token) = try await setup.integrations.create(name: "pbx", kind: .webhook, by: adminActor)
        let a = try CollectorProcess(
            dataDirectory: directory.appendingPathComponent("a").path, arguments: ["--database", database, "--plain-http"])
        defer { a.stop() }
        let b = try CollectorProcess(
            dataDirectory: directory.appendingPathComponent("b").path, arguments: ["--database", database, "--plain-http"])
        defer { b.stop() }
        // 240 calls in two posts, one to each collector: both jobs find 120 calls due at once, and each
        // leases batches of 20 from the same rows while the other does.
        let calls = 240
        for half in 0..<2 {
            let events = (half * 120..<(half + 1) * 120).map { index in
                #"{"event_id":"s\#(index)","type":"leg.started","occurred_at":"2026-12-01T10:00:00Z","interaction_id":"call-\#(index)","leg_id":"leg-1"},{"event_id":"e\#(index)","type":"leg.ended","occurred_at":"2026-12-01T10:01:00Z","interaction_id":"call-\#(index)","leg_id":"leg-1"}"#
            }
            let posted = try ProcessRunner.run(
                "curl",
                [
                    "-s", "--fail-with-body", "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json",
                    "--data-binary", #"{"events":[\#(events.joined(separator: ","))]}"#,
                    (half == 0 ? a.url : b.url) + "/api/v1/cti/events",
                ])
            #expect(posted.status == 0, "\(posted.stdout)")
        }
        let job = CorrelationJob(collector: setup, worker: "observer")
        let deadline = Date().addingTimeInterval(60)
        while try await job.waiting() > 0, Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(try await job.waiting() == 0)
        let rows = try await setup.catalog.sql.raw("SELECT runs FROM call_correlations").all().map {
            try $0.decode(column: "runs", as: Int.self)
        }
        #expect(rows.count == calls, "every call matched")
        #expect(rows.allSatisfy { $0 == 1 }, "no call matched twice: \(rows.filter { $0 != 1 }.count) were")
        await setup.close()
    }
}
