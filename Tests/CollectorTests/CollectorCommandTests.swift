import CollectorCore
import CollectorHTTP
import Foundation
import Glibc
import TestSupport
import TestTraits
import Testing

/// The `recorder-collector` program itself: the admin CLI on a data directory, and `serve` answering
/// over HTTP with what the CLI configured, stopping cleanly on SIGTERM.
@Suite(.serialized, .realTime)
struct CollectorCommandTests {
    let collector = ProcessRunner.product("recorder-collector")

    func admin(_ directory: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult
    {
        try ProcessRunner.run(collector, ["admin"] + arguments + ["--data-dir", directory], environment: environment)
    }

    @Test func theAdminCLIConfiguresAndRefusesPrecisely() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)").path
        let storage = try admin(
            directory,
            [
                "storage", "add", "paris-dav", "--url", "https://dav.paris.example/rec", "--auth", "basic",
                "--username", "ws",
            ],
            environment: ["RECORDER_COLLECTOR_STORAGE_SECRET": "cli-secret-7"])
        #expect(storage.status == 0, "\(storage.stderr)")
        #expect(!storage.stdout.contains("cli-secret-7") && storage.stdout.contains("\"has_secret\" : true"))

        let added = try admin(directory, ["node-path", "add", "/emea/paris", "--storage", "paris-dav"])
        #expect(added.status == 0, "\(added.stderr)")
        let resolved = try admin(directory, ["node-path", "resolve", "/emea/paris/sales/team-4"])
        #expect(resolved.stdout.contains("/emea/paris/sales/team-4 -> /emea/paris -> storage paris-dav"))

        let bad = try admin(directory, ["node-path", "add", "/emea//x", "--storage", "paris-dav"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("error: invalid node path \"/emea//x\": empty component"), "\(bad.stderr)")
        let unknown = try admin(directory, ["node-path", "add", "/apac", "--storage", "tokyo"])
        #expect(unknown.status == 1 && unknown.stderr.contains("storage target \"tokyo\" does not exist"))
        let inUse = try admin(directory, ["storage", "remove", "paris-dav"])
        #expect(inUse.status == 1 && inUse.stderr.contains("used by node path(s) /emea/paris"))

        let audit = try admin(directory, ["audit"])
        #expect(audit.stdout.contains("cli:") && audit.stdout.contains("node_path.create"))
        #expect(!audit.stdout.contains("cli-secret-7"))
        let key = try FileManager.default.attributesOfItem(atPath: "\(directory)/secrets.key")
        #expect((key[.posixPermissions] as? Int) == 0o600)

        // The trail verifies; after a row is changed behind the collector's back it does not, and says where.
        let verified = try ProcessRunner.run(collector, ["audit", "verify", "--data-dir", directory])
        #expect(verified.status == 0 && verified.stdout.contains("audit trail intact"), "\(verified.stdout) \(verified.stderr)")
        let edit = try ProcessRunner.run(
            "python3",
            [
                "-c",
                "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE audit_log SET detail='edited' WHERE action='node_path.create'\"); c.commit()",
                "\(directory)/catalog.sqlite",
            ])
        #expect(edit.status == 0, "\(edit.stderr)")
        let broken = try ProcessRunner.run(collector, ["audit", "verify", "--data-dir", directory])
        #expect(broken.status == 1, "\(broken.stdout) \(broken.stderr)")
        #expect(broken.stdout.contains("audit trail NOT intact") && broken.stdout.contains("node_path.create by system) was altered"), "\(broken.stdout)")
    }

    /// The CLI beside a running collector on one SQLite file: both write (the server audits every failed
    /// login, the CLI adds integrations and verifies the audit trail, which reads the chain's head and
    /// then appends to it), and every change of either lands, none refused as "locked".
    @Test func theCLIWritesBesideARunningCollector() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("beside-\(UUID().uuidString)").path
        let running = try CollectorProcess(dataDirectory: directory)
        defer { running.stop() }
        let stop = DispatchSemaphore(value: 0)
        let hammers = (0..<3).map { _ in Thread.detachNewThreadWithResult { () -> Int in
            var sent = 0
            while stop.wait(timeout: .now()) == .timedOut {
                _ = try? ProcessRunner.run(
                    "curl",
                    [
                        "-s", "-o", "/dev/null", "--cacert", running.caFile, "-X", "POST", "-H", "Content-Type: application/json",
                        "--data-binary", #"{"username":"nobody-\#(sent)","password":"wrong password here"}"#,
                        "\(running.url)/api/v1/auth/login",
                    ])
                sent += 1
            }
            return sent
        } }
        var failures: [String] = []
        for index in 0..<15 {
            let added = try admin(directory, ["integration", "add", "feed-\(index)"])
            if added.status != 0 { failures.append(added.stderr) }
            let verified = try ProcessRunner.run(collector, ["audit", "verify", "--data-dir", directory])
            if verified.status != 0 { failures.append(verified.stdout + verified.stderr) }
        }
        for _ in hammers { stop.signal() }
        #expect(hammers.map { $0.wait() }.reduce(0, +) > 0)
        #expect(failures.isEmpty, "\(failures)")
        let verified = try ProcessRunner.run(collector, ["audit", "verify", "--data-dir", directory])
        #expect(verified.status == 0, "one unbroken chain from both processes: \(verified.stdout)")
    }

    @Test func serveBootstrapsAnswersAndStopsOnSIGTERM() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString)").path
        let early = try admin(directory, ["node-path", "add", "/emea", "--storage", "builtin"])
        #expect(early.status == 0, "the CLI works before the first start: \(early.stderr)")
        let running = try CollectorProcess(dataDirectory: directory)
        let process = running.process
        let printed = running.printed
        #expect(!printed.contains("password:"), "the first admin's password is never printed")
        let password = try #require(running.adminPassword)
        let passwordFile = try FileManager.default.attributesOfItem(atPath: "\(directory)/initial-admin-password")
        #expect((passwordFile[.posixPermissions] as? Int) == 0o600)
        let address = running.url
        // The printed fingerprint is the CA's, as openssl computes it; curl trusts that CA and nothing else.
        let caFile = "\(directory)/tls/ca.pem"
        let openssl = try ProcessRunner.run("openssl", ["x509", "-in", caFile, "-noout", "-fingerprint", "-sha256"])
        let fingerprint = try #require(openssl.stdout.split(separator: "=").last).trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(printed.contains("TLS fingerprint (SHA-256; agents pin it at enrolment): \(fingerprint)"), "\(printed)")
        let untrusted = try ProcessRunner.run("curl", ["-s", "-o", "/dev/null", "\(address)/healthz"])
        #expect(untrusted.status == 60, "without the CA, curl refuses the certificate (exit 60)")
        let key = try FileManager.default.attributesOfItem(atPath: "\(directory)/tls/ca.key")
        #expect((key[.posixPermissions] as? Int) == 0o600)

        let login = try ProcessRunner.run(
            "curl",
            [
                "-s", "--cacert", caFile, "-X", "POST", "\(address)/api/v1/auth/login", "-d",
                #"{"username":"admin","password":"\#(password)"}"#,
            ])
        let token = try #require(
            (try JSONSerialization.jsonObject(with: Data(login.stdout.utf8)) as? [String: Any])?["token"] as? String)
        let created = try ProcessRunner.run(
            "curl",
            [
                "-s", "--cacert", caFile, "-X", "POST", "\(address)/api/v1/admin/node-paths", "-H",
                "Authorization: Bearer \(token)", "-d",
                #"{"path":"/emea/paris","storage":"builtin"}"#,
            ])
        #expect(created.stdout.contains(#""path":"/emea/paris""#), "\(created.stdout)")

        // The CLI sees what the API wrote (same catalog), while the service runs.
        let listed = try admin(directory, ["node-path", "list"])
        #expect(listed.stdout.contains("/emea/paris\tbuiltin"), "\(listed.stdout) \(listed.stderr)")
        #expect(listed.stdout.contains("/emea\tbuiltin"))

        Glibc.kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "graceful stop on SIGTERM")

        // A restart keeps everything and creates no second admin.
        let again = try CollectorProcess(dataDirectory: directory)
        defer { again.stop() }
        let second = again.printed
        #expect(second.contains("listening on") && !second.contains("First start"))
        #expect(second.contains(fingerprint), "the same CA across restarts: agents keep their pin")
    }
}

/// The TLS identity: a configured certificate is served as is; the self-made one renews for new names.
@Suite struct CollectorTLSTests {
    @Test func aConfiguredCertificateIsServedAndItsFingerprintPrinted() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let made = try ProcessRunner.run(
            "openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=collector.test",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", "\(directory)/key.pem", "-out",
                "\(directory)/cert.pem",
            ])
        #expect(made.status == 0, "\(made.stderr)")
        let half = try ProcessRunner.run(
            ProcessRunner.product("recorder-collector"),
            ["serve", "--data-dir", directory, "--port", "0", "--tls-certificate", "\(directory)/cert.pem"])
        #expect(half.status != 0 && half.stderr.contains("tls_certificate and tls_key go together"), "\(half.stderr)")

        let running = try CollectorProcess(
            dataDirectory: directory,
            arguments: ["--tls-certificate", "\(directory)/cert.pem", "--tls-key", "\(directory)/key.pem"])
        defer { running.stop() }
        let printed = running.printed
        let address = running.url
        let health = try ProcessRunner.run("curl", ["-s", "--cacert", "\(directory)/cert.pem", "\(address)/healthz"])
        #expect(health.stdout == "ok", "\(health.stderr)")
        let openssl = try ProcessRunner.run(
            "openssl", ["x509", "-in", "\(directory)/cert.pem", "-noout", "-fingerprint", "-sha256"])
        let fingerprint = String(openssl.stdout.split(separator: "=").last ?? "").trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(printed.contains(fingerprint) && !fingerprint.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/tls/ca.pem"), "no own CA when one is configured")
    }

    @Test func theSelfMadeServerCertificateFollowsTheHostNamesUnderTheSameCA() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
        let first = try CollectorTLS.selfManaged(in: directory, hostnames: ["localhost", "127.0.0.1"])
        let chain = try String(contentsOfFile: first.certificateChainPath, encoding: .utf8)
        let again = try CollectorTLS.selfManaged(in: directory, hostnames: ["localhost", "127.0.0.1"])
        #expect(try String(contentsOfFile: again.certificateChainPath, encoding: .utf8) == chain, "kept while valid")
        let renamed = try CollectorTLS.selfManaged(in: directory, hostnames: ["collector.example", "127.0.0.1"])
        #expect(renamed.fingerprint == first.fingerprint, "same CA, so agents keep their pin")
        let text = try ProcessRunner.run(
            "openssl", ["x509", "-in", renamed.certificateChainPath, "-noout", "-ext", "subjectAltName"])
        #expect(text.stdout.contains("DNS:collector.example") && text.stdout.contains("IP Address:127.0.0.1"))
        let verified = try ProcessRunner.run(
            "openssl", ["verify", "-CAfile", renamed.caPath!, renamed.certificateChainPath])
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
        let beforeRenewal = try String(contentsOfFile: renamed.certificateChainPath, encoding: .utf8)
        // 380 days on, fewer than 30 days remain: the next start renews it, still under the same CA.
        let later = try CollectorTLS.selfManaged(
            in: directory, hostnames: ["collector.example", "127.0.0.1"], now: Date().addingTimeInterval(380 * 86_400))
        #expect(try String(contentsOfFile: later.certificateChainPath, encoding: .utf8) != beforeRenewal)
        #expect(later.fingerprint == first.fingerprint)
    }
}

@Suite struct CollectorConfigurationTests {
    @Test func theShippedExampleLoadsAndFlagsWin() throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Collector/collector.example.json").path
        var configuration = try CollectorConfiguration.load(
            file: example, environment: ["RECORDER_COLLECTOR_PORT": "9443"])
        #expect(configuration.dataDirectory == "/var/lib/recorder-collector")
        #expect(configuration.port == 9443, "the environment overrides the file")
        try configuration.apply(dataDirectory: nil, database: nil, host: "127.0.0.1", port: "8000", source: "flags")
        #expect(configuration.port == 8000 && configuration.host == "127.0.0.1")
    }

    @Test(arguments: [
        (#"{"version":1,"prot":1}"#, #"unknown key "prot""#),
        (#"{"version":2}"#, "version 2 is not supported"),
        (#"{"version":1,"database":"mysql://x"}"#, "neither sqlite:PATH"),
        (#"{"version":1,"port":70000}"#, "port 70000 must be a number"),
        (#"{"version":1,"host":5}"#, "host must be a string"),
    ])
    func badFilesNameTheKey(_ json: String, _ message: String) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("collector-\(UUID().uuidString).json")
        try json.write(to: path, atomically: true, encoding: .utf8)
        #expect {
            try CollectorConfiguration.load(file: path.path, environment: [:])
        } throws: { error in
            "\(error)".contains(message) && "\(error)".contains(path.path)
        }
    }
}
