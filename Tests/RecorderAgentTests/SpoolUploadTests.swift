import Foundation
import RecorderCore
import TestSupport
import TestTraits
import Testing

/// Recording with storage configured: sealed segments and manifests reach Apache at the layout path,
/// the spool empties; with the storage down or refusing us, the spool keeps everything until it works.
@Suite(.serialized, .realTime)
struct SpoolUploadTests {
    func configuration(_ server: ApacheDAVServer, password: String? = nil, base: String, keys: TestKeyPair) throws
        -> String
    {
        let json: [String: Any] = [
            "version": 1, "agent_id": "ws-up", "node_path": "/emea/paris", "state_directory": "\(base)/state",
            "output_directory": "\(base)/spool", "recipient_certificates": [keys.certificate.path],
            "storage": [
                "url": server.baseURL, "auth": "digest", "username": server.user,
                "password": password ?? server.password,
                "ca_file": server.caFile,
            ],
        ]
        let path = "\(base)/agent-\(UUID().uuidString).json"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        return path
    }

    func stored(_ server: ApacheDAVServer) -> [String] {
        let root = server.documentRoot.appendingPathComponent("dav").path
        let enumerator = FileManager.default.enumerator(atPath: root)
        return (enumerator?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".p7m") || $0.hasSuffix(".json") }
            .sorted()
    }

    func spoolFiles(_ base: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(base)/spool")) ?? []).filter { !$0.hasPrefix(".") }
    }

    @Test func recordedSegmentsArriveAtTheLayoutPathAndLeaveTheSpool() throws {
        let keys = try TestKeyPair(name: "recording key")
        let server = try ApacheDAVServer()
        let desktop = try LiveDesktop(width: 320, height: 240, seconds: 30)
        defer { desktop.stop() }
        let base = desktop.directory
        let config = try configuration(server, base: base, keys: keys)
        let run = try ProcessRunner.run(
            ProcessRunner.product("recorder-agent"),
            ["record", "--config", config, "--display", desktop.display, "--duration", "3s", "--segment-length", "1s"])
        #expect(run.status == 0, "\(run.stderr)")
        let files = stored(server)
        #expect(files.count == 6, "3 segments and 3 manifests: \(files)")
        #expect(files.allSatisfy { $0.hasPrefix("emea/paris/") && $0.contains("/ws-up/standalone/") }, "\(files)")
        #expect(spoolFiles(base).isEmpty, "uploaded segments leave the spool: \(spoolFiles(base))")
        // What arrived is intact: the storage directory verifies, and a segment decrypts to VP8.
        let leaf = server.documentRoot.appendingPathComponent("dav").appendingPathComponent(
            (files[0] as NSString).deletingLastPathComponent)
        let verified = try ProcessRunner.run(ProcessRunner.product("recorder-agent"), ["verify", leaf.path])
        #expect(verified.status == 0, "\(verified.stdout)")
    }

    @Test func storageDownOrRefusingKeepsTheSpoolUntilUploadsWork() throws {
        let keys = try TestKeyPair(name: "recording key")
        let down = try ApacheDAVServer()
        down.stop()
        let desktop = try LiveDesktop(width: 320, height: 240, seconds: 30)
        defer { desktop.stop() }
        let base = desktop.directory
        let run = try ProcessRunner.run(
            ProcessRunner.product("recorder-agent"),
            [
                "record", "--config", try configuration(down, base: base, keys: keys), "--display", desktop.display,
                "--duration", "2s", "--segment-length", "1s",
            ])
        #expect(run.status == 0, "recording goes on while the storage is down: \(run.stderr)")
        #expect(spoolFiles(base).count == 4, "2 segments + 2 manifests wait in the spool: \(spoolFiles(base))")

        let server = try ApacheDAVServer()
        let refused = try ProcessRunner.run(
            ProcessRunner.product("recorder-agent"),
            ["upload", "--config", try configuration(server, password: "wrong", base: base, keys: keys)])
        #expect(refused.status != 0)
        #expect(refused.stdout.contains("refused our credentials"), "\(refused.stdout)")
        #expect(spoolFiles(base).count == 4, "nothing leaves the spool on 401")

        let fixed = try ProcessRunner.run(
            ProcessRunner.product("recorder-agent"),
            ["upload", "--config", try configuration(server, base: base, keys: keys)])
        #expect(fixed.status == 0, "\(fixed.stdout) \(fixed.stderr)")
        #expect(fixed.stdout.contains("uploaded 2 segment(s), 0 left"), "\(fixed.stdout)")
        #expect(stored(server).count == 4)
        #expect(spoolFiles(base).isEmpty)
    }
}
