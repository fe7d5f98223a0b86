import Foundation
import RecorderCore
import StorageClient
import TestSupport
import TestTraits
import Testing

@testable import RecorderAgent

/// Upload faults and the other ways into a storage: a full storage (507), a server that never answers,
/// a server stopped in the middle of an upload, mTLS and Bearer tokens against a real Apache, and
/// several uploads at once. In every case nothing leaves the spool before the storage has it.
@Suite(.serialized, .realTime)
struct UploadFaultTests {
    /// A spool of `seconds` one-second sealed segments, recorded without storage.
    /// `busy`: a full-screen noise scene at a high bitrate, for segments of several hundred KB
    /// (small ones leave curl in one write and sit in socket buffers, however low the rate cap).
    func recordedSpool(seconds: Int, keys: TestKeyPair, busy: Bool = false) throws -> (desktop: LiveDesktop, base: String) {
        let desktop =
            busy
            ? try LiveDesktop(width: 640, height: 480, scene: "noise", seconds: 30)
            : try LiveDesktop(width: 320, height: 240, seconds: 30)
        let base = desktop.directory
        let config = try writeConfiguration(base: base, keys: keys, storage: nil)
        let run = try ProcessRunner.run(
            ProcessRunner.product("recorder-agent"),
            [
                "record", "--config", config, "--display", desktop.display, "--duration", "\(seconds)s",
                "--segment-length", "1s",
            ] + (busy ? ["--bitrate", "8000", "--fps", "10"] : []))
        guard run.status == 0 else { throw TestFailure("recording failed: \(run.stderr)") }
        desktop.stop()
        return (desktop, base)
    }

    func writeConfiguration(base: String, keys: TestKeyPair, storage: [String: Any]?) throws -> String {
        var json: [String: Any] = [
            "version": 1, "agent_id": "ws-fault", "node_path": "/emea/paris", "state_directory": "\(base)/state",
            "output_directory": "\(base)/spool", "recipient_certificates": [keys.certificate.path],
        ]
        json["storage"] = storage
        let path = "\(base)/agent-\(UUID().uuidString).json"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        return path
    }

    func digestStorage(_ server: ApacheDAVServer, extra: [String: Any] = [:]) -> [String: Any] {
        [
            "url": server.baseURL, "auth": "digest", "username": server.user, "password": server.password,
            "ca_file": server.caFile,
        ].merging(extra) { $1 }
    }

    func spoolFiles(_ base: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(base)/spool")) ?? []).filter { !$0.hasPrefix(".") }
            .sorted()
    }

    /// Every file under Apache's DAV root, hidden ones included (Apache's own temporary files aside).
    func storedFiles(_ server: ApacheDAVServer) -> [String] {
        let root = server.documentRoot.appendingPathComponent("dav").path
        return (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? [])
            .filter { path in
                var isDirectory: ObjCBool = false
                let exists = FileManager.default.fileExists(atPath: "\(root)/\(path)", isDirectory: &isDirectory)
                return exists && !isDirectory.boolValue && !(path as NSString).lastPathComponent.hasPrefix(".davfs.tmp")
            }.sorted()
    }

    func upload(_ config: String) throws -> ProcessResult {
        try ProcessRunner.run(ProcessRunner.product("recorder-agent"), ["upload", "--config", config])
    }

    @Test func aFullStorageKeepsTheSpoolAndBacksOffForLonger() throws {
        let keys = try TestKeyPair(name: "recording key")
        let (_, base) = try recordedSpool(seconds: 2, keys: keys)
        let before = spoolFiles(base)
        let full = try FaultyDAVServer(fault: .insufficientStorage)
        let refused = try upload(
            try writeConfiguration(
                base: base, keys: keys, storage: ["url": full.baseURL, "ca_file": full.caFile, "parallel_uploads": 1]))
        #expect(refused.status != 0)
        #expect(refused.stdout.contains("HTTP 507: the storage is full"), "\(refused.stdout)")
        #expect(refused.stdout.contains("uploaded 0 segment(s), 2 left"), "\(refused.stdout)")
        #expect(spoolFiles(base) == before, "a full storage takes nothing from the spool")
        #expect(full.requests.filter { $0.hasPrefix("PUT ") }.count == 1, "the pass stops at the first 507")

        let error = TransferError(.insufficientStorage, "full")
        for failures in 1...3 {
            #expect(UploadService.backoff(after: error, failures: failures) >= .seconds(48))
        }
        #expect(UploadService.backoff(after: TransferError(.transient, "reset"), failures: 1) <= .milliseconds(1200))
    }

    @Test func aServerThatNeverAnswersIsAbandonedAndRecordingGoesOn() throws {
        let keys = try TestKeyPair(name: "recording key")
        let stalled = try FaultyDAVServer(fault: .stall, on: ["PUT"])
        let desktop = try LiveDesktop(width: 320, height: 240, seconds: 30)
        defer { desktop.stop() }
        let base = desktop.directory
        // A stall timeout far beyond the test: only the shutdown grace can end the hung PUT.
        let patient = try writeConfiguration(
            base: base, keys: keys,
            storage: ["url": stalled.baseURL, "ca_file": stalled.caFile, "stall_timeout_seconds": 3600])
        let run = try ProcessRunner.run(
            ProcessRunner.product("recorder-agent"),
            ["record", "--config", patient, "--display", desktop.display, "--duration", "3s", "--segment-length", "1s"])
        #expect(run.status == 0, "a hung storage neither stops the recording nor its shutdown: \(run.stderr)")
        #expect(run.stderr.contains("abandoned because the agent is stopping"), "\(run.stderr)")
        #expect(spoolFiles(base).count == 6, "3 segments + 3 manifests stay in the spool: \(spoolFiles(base))")
        #expect(stalled.requests.contains { $0.hasPrefix("PUT ") })

        let impatient = try writeConfiguration(
            base: base, keys: keys,
            storage: ["url": stalled.baseURL, "ca_file": stalled.caFile, "stall_timeout_seconds": 1])
        let retried = try upload(impatient)
        #expect(retried.status != 0)
        #expect(retried.stdout.contains("too slow"), "curl's stall message names the cause: \(retried.stdout)")
        #expect(spoolFiles(base).count == 6)
    }

    @Test func aServerStoppedMidUploadGetsEverythingOnceItIsBack() throws {
        let keys = try TestKeyPair(name: "recording key")
        let (_, base) = try recordedSpool(seconds: 3, keys: keys, busy: true)
        let largest = try FileManager.default.contentsOfDirectory(atPath: "\(base)/spool")
            .filter { $0.hasSuffix(".webm.p7m") }
            .map { try FileManager.default.attributesOfItem(atPath: "\(base)/spool/\($0)")[.size] as? Int ?? 0 }.max() ?? 0
        try #require(largest > 400_000, "segments large enough to be cut mid-body: \(largest) bytes")
        let server = try ApacheDAVServer()
        // 64 KiB/s against segments of ~700 KB: each PUT takes about ten seconds.
        let slow = try writeConfiguration(
            base: base, keys: keys, storage: digestStorage(server, extra: ["max_bytes_per_second": 65536]))
        let (uploader, output) = try ProcessRunner.launch(
            ProcessRunner.product("recorder-agent"), ["upload", "--config", slow])
        // mod_dav_fs writes a PUT's body into a temporary `.davfs.tmp…` file as it arrives and renames
        // it when the body is complete: one holding more than a manifest's few KB and less than a whole
        // segment means a segment's bytes are on the wire now.
        let root = server.documentRoot.appendingPathComponent("dav").path
        func partialUpload() -> Bool {
            (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).contains { name in
                guard (name as NSString).lastPathComponent.hasPrefix(".davfs.tmp") else { return false }
                let size = (try? FileManager.default.attributesOfItem(atPath: "\(root)/\(name)")[.size] as? Int) ?? 0
                return size > 8192 && size < largest
            }
        }
        let deadline = Date().addingTimeInterval(60)
        while !partialUpload() && uploader.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        try #require(
            partialUpload(),
            "no PUT was under way when the server was to stop: \((try? String(contentsOf: output, encoding: .utf8)) ?? "")")
        server.stop()
        uploader.waitUntilExit()
        let interrupted = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        #expect(uploader.terminationStatus != 0, "\(interrupted)")
        // Segments whose upload (and move into place) finished before the stop left the spool; the one
        // cut mid-body, and everything after it, stayed.
        let done = interrupted.firstMatch(of: /uploaded (\d+) segment/).flatMap { Int($0.1) } ?? 0
        #expect(done < 3, "one upload was cut mid-body: \(interrupted)")
        #expect(spoolFiles(base).count == 6 - 2 * done, "nothing leaves the spool unconfirmed: \(interrupted)")

        try server.start()
        let resumed = try upload(
            try writeConfiguration(
                base: base, keys: keys, storage: digestStorage(server, extra: ["parallel_uploads": 4])))
        #expect(resumed.status == 0, "\(resumed.stdout)")
        #expect(resumed.stdout.contains("uploaded \(3 - done) segment(s), 0 left"), "\(resumed.stdout)")
        #expect(spoolFiles(base).isEmpty)
        let stored = storedFiles(server)
        #expect(stored.count == 6, "3 segments + 3 manifests, no temporary names left: \(stored)")
        #expect(!stored.contains { $0.contains(".uploading") }, "\(stored)")
        let directory = server.documentRoot.appendingPathComponent("dav")
            .appendingPathComponent((stored[0] as NSString).deletingLastPathComponent).path
        let verified = try ProcessRunner.run(ProcessRunner.product("recorder-agent"), ["verify", directory])
        #expect(verified.status == 0, "segments uploaded in parallel still form an unbroken chain: \(verified.stdout)")
    }

    @Test func mutualTLSNeedsTheClientCertificate() throws {
        let server = try ApacheDAVServer(requireClientCertificate: true)
        var target = StorageTarget(
            baseURL: server.baseURL, credentials: .digest(user: server.user, password: server.password),
            caFile: server.caFile)
        #expect {
            try WebDAVClient(target: target).store([1, 2, 3], in: ["a"], name: "x")
        } throws: { error in
            (error as? TransferError)?.kind == .tls && "\(error)".contains("storage.client_certificate")
        }
        #expect(
            FileManager.default.fileExists(atPath: server.documentRoot.appendingPathComponent("dav/a").path) == false)
        target.clientCertificate = server.clientCertificate
        target.clientKey = server.clientKey
        try WebDAVClient(target: target).store([1, 2, 3], in: ["a"], name: "x")
        let stored = try Data(contentsOf: server.documentRoot.appendingPathComponent("dav/a/x"))
        #expect(stored == Data([1, 2, 3]))
    }

    @Test func bearerTokensAreSentAndAWrongOneIsRefused() throws {
        let server = try ApacheDAVServer(authentication: .bearer(token: "tok-8f2c41"))
        let wrong = StorageTarget(
            baseURL: server.baseURL, credentials: .bearer(token: "tok-other"), caFile: server.caFile)
        #expect {
            try WebDAVClient(target: wrong).store([1, 2, 3], in: ["a"], name: "x")
        } throws: { error in
            (error as? TransferError)?.kind == .unauthorized && "\(error)".contains("HTTP 403")
        }
        let right = StorageTarget(
            baseURL: server.baseURL, credentials: .bearer(token: "tok-8f2c41"), caFile: server.caFile)
        try WebDAVClient(target: right).store([4, 5], in: ["a", "b"], name: "y")
        let stored = try Data(contentsOf: server.documentRoot.appendingPathComponent("dav/a/b/y"))
        #expect(stored == Data([4, 5]))
    }
}
