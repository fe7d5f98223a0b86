import Foundation
import Glibc
import RecorderCore
import TestSupport
import TestTraits
import Testing

/// The whole path from an admin's configuration to segments in storage: a real collector (HTTPS with
/// its own CA), a real Apache mod_dav as the node path's storage, an agent enrolled with a one-time code
/// and the CA fingerprint, recording on Xvfb; the collector's key opens what arrived.
@Suite(.serialized, .realTime)
struct EnrolmentTests {
    let collector = ProcessRunner.product("recorder-collector")
    let agent = ProcessRunner.product("recorder-agent")

    /// A running collector on a free port; returns its URL and printed fingerprint.
    func startCollector(_ data: String) throws -> (process: Process, url: String, fingerprint: String) {
        let running = try CollectorProcess(dataDirectory: data)
        guard let fingerprint = running.fingerprint else {
            running.stop()
            throw TestFailure("the collector printed no fingerprint: \(running.printed)")
        }
        return (running.process, running.url, fingerprint)
    }

    func admin(_ data: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        try ProcessRunner.run(collector, ["admin"] + arguments + ["--data-dir", data], environment: environment)
    }

    func code(_ data: String, _ nodePath: String) throws -> String {
        let created = try admin(data, ["enrolment-code", "create", nodePath])
        guard created.status == 0, let code = created.stdout.split(separator: "\t").first else {
            throw TestFailure("enrolment-code create failed: \(created.stderr)")
        }
        return String(code)
    }

    @Test func anEnrolledAgentUploadsToItsNodePathsStorageAndTheCollectorOpensIt() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("collector-\(UUID().uuidString)").path
        let apache = try ApacheDAVServer()
        let storage = try admin(
            data,
            [
                "storage", "add", "paris-dav", "--url", apache.baseURL, "--auth", "digest", "--username", apache.user,
                "--ca-file", apache.caFile,
            ], environment: ["RECORDER_COLLECTOR_STORAGE_SECRET": apache.password])
        #expect(storage.status == 0, "\(storage.stderr)")
        #expect(try admin(data, ["node-path", "add", "/emea/paris", "--storage", "paris-dav"]).status == 0)
        let service = try startCollector(data)
        defer { ProcessRunner.kill(service.process) }

        let desktop = try LiveDesktop(width: 320, height: 240, seconds: 30)
        defer { desktop.stop() }
        let state = "\(desktop.directory)/state"

        // A wrong fingerprint: refused before anything is sent or written.
        let forged = try ProcessRunner.run(
            agent,
            [
                "enroll", "--collector", service.url, "--code", try code(data, "/emea/paris/sales"), "--fingerprint",
                String(repeating: "AB:", count: 31) + "AB", "--agent-id", "ws-e2e", "--state-dir", state,
            ])
        #expect(forged.status != 0 && forged.stderr.contains("do not enrol"), "\(forged.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(state)/agent.json"))

        let enrolmentCode = try code(data, "/emea/paris/sales")
        let enrolled = try ProcessRunner.run(
            agent,
            [
                "enroll", "--collector", service.url, "--code", enrolmentCode.lowercased(), "--fingerprint",
                service.fingerprint, "--agent-id", "ws-e2e", "--state-dir", state,
            ])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        #expect(enrolled.stdout.contains("node path /emea/paris/sales (storage paris-dav)"), "\(enrolled.stdout)")
        let configuration = "\(state)/agent.json"
        let permissions = try FileManager.default.attributesOfItem(atPath: configuration)[.posixPermissions] as? Int
        #expect(permissions == 0o600, "it holds the storage password")

        let reused = try ProcessRunner.run(
            agent,
            [
                "enroll", "--collector", service.url, "--code", enrolmentCode, "--fingerprint", service.fingerprint,
                "--agent-id", "ws-other", "--state-dir", "\(desktop.directory)/other",
            ])
        #expect(reused.status != 0 && reused.stderr.contains("HTTP 401: this enrolment code was used already"))

        let recorded = try ProcessRunner.run(
            agent,
            [
                "record", "--config", configuration, "--display", desktop.display, "--duration", "2s",
                "--segment-length", "1s",
            ])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let root = apache.documentRoot.appendingPathComponent("dav").path
        let stored = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).filter {
            $0.hasSuffix(".p7m")
        }.sorted()
        #expect(stored.count == 2, "\(stored)")
        #expect(
            stored.allSatisfy { $0.hasPrefix("emea/paris/sales/") && $0.contains("/ws-e2e/standalone/") }, "\(stored)")

        // The collector catalogued exactly what storage holds, and heard the agent's heartbeats.
        let rows = try catalogue(data)
        #expect(rows.map { $0["object_path"] as? String ?? "" }.sorted() == stored, "\(rows)")
        #expect(rows.allSatisfy { $0["storage_target"] as? String == "paris-dav" })
        #expect(rows.map { $0["chain"] as? String ?? "" } == ["first", "linked"])
        let listed = try #require(try agents(data).first { $0["id"] as? String == "ws-e2e" })
        let health = try #require(listed["health"] as? [String: Any], "\(listed)")
        #expect(health["agent_version"] as? String == ProductVersion.current)
        #expect(health["state"] as? String == "stopping", "the last heartbeat says the agent stopped")
        #expect(health["verdict"] as? String == "ok", "\(health)")
        #expect(health["spool_segments"] as? Int == 0)

        let sealed = try #require(stored.first)
        let opened = "\(desktop.directory)/opened.webm"
        let decrypted = try ProcessRunner.run(
            collector, ["decrypt", "\(root)/\(sealed)", "--out", opened, "--data-dir", data])
        #expect(decrypted.status == 0, "\(decrypted.stderr)")
        let probe = try ProcessRunner.run(
            "ffprobe", ["-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", opened])
        #expect(probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "vp8")

        // Revocation takes effect on the next request.
        let token = try #require(
            (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(state)/collector.json")))
                as? [String: Any])?["agent_token"] as? String)
        func fetchConfig() throws -> ProcessResult {
            try ProcessRunner.run(
                "curl",
                [
                    "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", "\(state)/collector-ca.pem", "-H",
                    "Authorization: Bearer \(token)", "\(service.url)/api/v1/agent/config",
                ])
        }
        #expect(try fetchConfig().stdout == "200")
        #expect(try admin(data, ["agent", "revoke", "ws-e2e"]).status == 0)
        #expect(try fetchConfig().stdout == "401")

        // A revoked agent still records; what the collector will not catalogue stays in the spool.
        let afterRevocation = try ProcessRunner.run(
            agent, ["record", "--config", configuration, "--display", desktop.display, "--duration", "1s"])
        #expect(afterRevocation.status == 0, "\(afterRevocation.stderr)")
        #expect(afterRevocation.stderr.contains("no longer accepts this agent's token"), "\(afterRevocation.stderr)")
        #expect(afterRevocation.stdout.contains("0 uploaded, 1 waiting in the spool"), "\(afterRevocation.stdout)")
        #expect(try catalogue(data).count == 2)
    }

    /// The catalog's rows as `recorder-collector admin segment list --json` prints them.
    func catalogue(_ data: String) throws -> [[String: Any]] {
        let listed = try admin(data, ["segment", "list", "--json"])
        guard listed.status == 0 else { throw TestFailure("segment list: \(listed.stderr)") }
        return try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] ?? []
    }

    func agents(_ data: String) throws -> [[String: Any]] {
        let listed = try admin(data, ["agent", "list", "--json"])
        guard listed.status == 0 else { throw TestFailure("agent list: \(listed.stderr)") }
        return try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] ?? []
    }
}

extension EnrolmentTests {
    /// An enrolled agent asks its collector for its configuration at every start: a rotated recording
    /// key reaches it without re-enrolment, its own settings in agent.json stay, and a collector that is
    /// down leaves it recording with the last configuration.
    @Test func anEnrolledAgentTakesItsConfigurationFromTheCollectorAtStart() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("collector-\(UUID().uuidString)").path
        let service = try startCollector(data)
        defer { ProcessRunner.kill(service.process) }
        let desktop = try LiveDesktop(width: 320, height: 240, seconds: 60)
        defer { desktop.stop() }
        let state = "\(desktop.directory)/state"
        let enrolled = try ProcessRunner.run(
            agent,
            [
                "enroll", "--collector", service.url, "--code", try code(data, "/apac/osaka"), "--fingerprint",
                service.fingerprint, "--agent-id", "ws-osaka-1", "--state-dir", state,
            ])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        let file = "\(state)/agent.json"
        func recipients() throws -> [String] {
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file)))
            return (object as? [String: Any])?["recipient_certificates"] as? [String] ?? []
        }
        #expect(try recipients().count == 1)
        // The admin's own edit of agent.json (a display) must survive the refresh.
        var edited = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as! [String: Any]
        edited["display"] = desktop.display
        try JSONSerialization.data(withJSONObject: edited).write(to: URL(fileURLWithPath: file))

        let rotated = try ProcessRunner.run(collector, ["keys", "rotate", "--data-dir", data])
        #expect(rotated.status == 0, "\(rotated.stderr)")
        let recorded = try ProcessRunner.run(agent, ["record", "--config", file, "--duration", "1s"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        #expect(recorded.stderr.contains("configuration updated from the collector"), "\(recorded.stderr)")
        #expect(try recipients().count == 2, "sealed for both active keys now")
        let display = (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])?["display"] as? String
        #expect(display == desktop.display, "the agent's own settings stay")

        ProcessRunner.kill(service.process)
        let offline = try ProcessRunner.run(agent, ["record", "--config", file, "--duration", "1s"])
        #expect(offline.status == 0, "\(offline.stderr)")
        #expect(offline.stderr.contains("recording with the last one"), "\(offline.stderr)")
        #expect(try recipients().count == 2)
    }

    @Test func withNoStorageConfiguredAgentsUploadToTheCollectorsOwnStoreWithinTheirScope() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("collector-\(UUID().uuidString)").path
        let service = try startCollector(data)
        defer { ProcessRunner.kill(service.process) }
        let desktop = try LiveDesktop(width: 320, height: 240, seconds: 30)
        defer { desktop.stop() }
        let state = "\(desktop.directory)/state"
        let enrolled = try ProcessRunner.run(
            agent,
            [
                "enroll", "--collector", service.url, "--code", try code(data, "/apac/tokyo"), "--fingerprint",
                service.fingerprint, "--agent-id", "ws-tokyo-1", "--state-dir", state,
            ])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        #expect(enrolled.stdout.contains("(storage builtin)"), "the root node path maps to the built-in store")

        let recorded = try ProcessRunner.run(
            agent,
            [
                "record", "--config", "\(state)/agent.json", "--display", desktop.display, "--duration", "2s",
                "--segment-length", "1s",
            ])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let root = "\(data)/store"
        let stored = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).filter {
            $0.hasSuffix(".p7m") || $0.hasSuffix(".json")
        }.sorted()
        #expect(stored.count == 4, "\(stored) \(recorded.stderr)")
        #expect(
            stored.allSatisfy { $0.hasPrefix("apac/tokyo/") && $0.contains("/ws-tokyo-1/standalone/") }, "\(stored)")
        #expect(!stored.contains { ($0 as NSString).lastPathComponent.hasPrefix(".") }, "no temporary names left")
        let catalogued = try catalogue(data)
        #expect(
            catalogued.map { $0["object_path"] as? String ?? "" }.sorted() == stored.filter { $0.hasSuffix(".p7m") },
            "\(catalogued)")
        #expect(catalogued.allSatisfy { $0["storage_target"] as? String == "builtin" })
        let leaf = "\(root)/" + (stored[0] as NSString).deletingLastPathComponent
        let verified = try ProcessRunner.run(agent, ["verify", leaf])
        #expect(verified.status == 0, "\(verified.stdout)")

        // The agent's token reaches only its own area.
        let token = try #require(
            (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(state)/collector.json")))
                as? [String: Any])?["agent_token"] as? String)
        func put(_ path: String) throws -> String {
            try ProcessRunner.run(
                "curl",
                [
                    "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", "\(state)/collector-ca.pem", "-H",
                    "Authorization: Bearer \(token)", "-T", "\(state)/agent.json", "\(service.url)/dav/\(path)",
                ]
            ).stdout
        }
        let day = (stored[0] as NSString).deletingLastPathComponent.split(separator: "/").prefix(5).joined(
            separator: "/")
        #expect(try put("\(day)/ws-tokyo-1/standalone/extra.json") == "201")
        #expect(try put("\(day)/ws-other/standalone/forged.json") == "403", "another agent's directory")
        #expect(try put("emea/forged.json") == "403", "another node path")
        #expect(try put("apac/tokyo/%2e%2e/%2e%2e/escape.json") == "403", "encoded traversal")
    }
}
