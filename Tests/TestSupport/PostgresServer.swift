import Foundation
import Glibc

/// A real PostgreSQL server for one test run: a fresh cluster (initdb) in a temporary directory,
/// listening on 127.0.0.1 and a free port, password authentication (scram-sha-256) for user
/// `recorder`. PostgreSQL refuses to run as root, so as root it runs as the `postgres` user that
/// Debian's package creates. Stopped (SIGKILL, then the directory removed) when released.
public final class PostgresServer: @unchecked Sendable {
    public let directory: URL
    public let port: Int
    public let password = "pg-test-pässword"
    private var process: Process?

    /// A database URL for a new, empty database (`CREATE DATABASE`), so tests do not share state.
    public func makeDatabase() throws -> String {
        let name = "test_\(UUID().uuidString.prefix(8).lowercased())"
        let result = try ProcessRunner.run(
            try PostgresServer.binary("psql"),
            ["-h", "127.0.0.1", "-p", "\(port)", "-U", "recorder", "-d", "postgres", "-c", "CREATE DATABASE \(name)"],
            environment: ["PGPASSWORD": password])
        guard result.status == 0 else { throw TestFailure("CREATE DATABASE failed: \(result.stderr)") }
        let encoded = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        return "postgres://recorder:\(encoded)@127.0.0.1:\(port)/\(name)?sslmode=disable"
    }

    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("postgres-\(UUID().uuidString)")
        let data = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try "\(password)\n".write(to: directory.appendingPathComponent("pwfile"), atomically: true, encoding: .utf8)
        let asRoot = getuid() == 0
        if asRoot { _ = try ProcessRunner.run("chown", ["-R", "postgres:postgres", directory.path]) }
        let initdb = try PostgresServer.asOwner(
            asRoot,
            [
                try PostgresServer.binary("initdb"), "-D", data.path, "-U", "recorder", "--auth=scram-sha-256",
                "--pwfile=\(directory.appendingPathComponent("pwfile").path)", "-E", "UTF8", "--no-sync",
            ])
        guard initdb.status == 0 else { throw TestFailure("initdb failed: \(initdb.stderr)") }
        var lastError = ""
        for _ in 0..<5 {
            let candidate = try ApacheDAVServer.freePort()
            let (process, output) = try ProcessRunner.launch(
                asRoot ? "/usr/sbin/runuser" : try PostgresServer.binary("postgres"),
                (asRoot ? ["-u", "postgres", "--", try PostgresServer.binary("postgres")] : []) + [
                    "-D", data.path, "-h", "127.0.0.1", "-p", "\(candidate)", "-k", directory.path, "-c", "fsync=off",
                ], captureStandardError: true)
            if ApacheDAVServer.waitUntilListening(port: candidate, process: process), PostgresServer.ready(candidate) {
                self.process = process
                self.port = candidate
                return
            }
            lastError = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            ProcessRunner.kill(process)
        }
        throw TestFailure("PostgreSQL did not start: \(lastError)")
    }

    deinit { stop() }

    /// Kills the postmaster (its backends end with their connections) and removes the cluster. Plain
    /// kill + waitpid, not Foundation's waitUntilExit: this also runs from an atexit handler, where
    /// Foundation's process monitoring no longer answers (seen as a test run that never exits).
    public func stop() {
        if let process {
            Glibc.kill(process.processIdentifier, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(process.processIdentifier, &status, 0)
        }
        process = nil
        try? FileManager.default.removeItem(at: directory)
    }

    static func ready(_ port: Int) -> Bool {
        for _ in 0..<100 {
            if let result = try? ProcessRunner.run(
                try binary("pg_isready"), ["-h", "127.0.0.1", "-p", "\(port)"]), result.status == 0
            {
                return true
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    static func asOwner(_ asRoot: Bool, _ command: [String]) throws -> ProcessResult {
        asRoot
            ? try ProcessRunner.run("/usr/sbin/runuser", ["-u", "postgres", "--"] + command)
            : try ProcessRunner.run(command[0], Array(command.dropFirst()))
    }

    /// Debian keeps the server programs in /usr/lib/postgresql/<version>/bin.
    static func binary(_ name: String) throws -> String {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for version in versions.sorted(by: >) {
            let path = "/usr/lib/postgresql/\(version)/bin/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw TestFailure("PostgreSQL's \(name) is not installed (apt-get install postgresql; .ci/run does it)")
    }
}
