import Foundation

/// `recorder-collector serve` as a process of its own on a free port of 127.0.0.1: what the tests and
/// the load benchmark run against. Ready once the collector prints its own "listening on" line.
public final class CollectorProcess: @unchecked Sendable {
    public let process: Process
    public let output: URL
    public let dataDirectory: String
    /// `https://127.0.0.1:PORT` (or `http://` with `--plain-http`).
    public let url: String
    /// What the collector printed until it listened.
    public let printed: String

    /// `arguments` are added to `serve --data-dir DIR --port 0`; `namespace`: its 127.0.0.1 instead of
    /// the machine's (for agents that run there, next to peers that need one).
    public init(
        dataDirectory: String? = nil, arguments: [String] = [], environment: [String: String] = [:],
        namespace: NetworkNamespace? = nil
    ) throws {
        let directory =
            dataDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("collector-\(UUID().uuidString)").path
        self.dataDirectory = directory
        var (executable, command) = (
            ProcessRunner.product("recorder-collector"), ["serve", "--data-dir", directory, "--port", "0"] + arguments
        )
        if let namespace { (executable, command) = try namespace.command(executable, command) }
        (process, output) = try ProcessRunner.launch(executable, command, environment: environment)
        guard let printed = ProcessRunner.waitForOutput(containing: "listening on", in: output, of: process),
            let range = printed.firstRange(of: /https?:\/\/127\.0\.0\.1:\d+/)
        else {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            ProcessRunner.kill(process)
            throw TestFailure("the collector did not start: \(text)")
        }
        self.printed = printed
        url = String(printed[range])
    }

    /// The collector's own CA (PEM), which agents and curl trust.
    public var caFile: String { dataDirectory + "/tls/ca.pem" }

    /// The fingerprint the collector printed for agents to pin.
    public var fingerprint: String? {
        printed.split(separator: "\n").first { $0.hasPrefix("TLS fingerprint") }?.split(separator: " ").last.map(
            String.init)
    }

    /// The first admin's password, from the 0600 file the first start wrote.
    public var adminPassword: String? {
        (try? String(contentsOfFile: dataDirectory + "/initial-admin-password", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public var isRunning: Bool { process.isRunning }

    /// CPU seconds the collector has used (user + system, from /proc).
    public var cpuSeconds: Double {
        let stat = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8)) ?? ""
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        let ticks = fields.count > 12 ? (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0) : 0
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident memory now (`VmRSS`) and at its peak (`VmHWM`), in KB.
    public var residentKB: Int { statusField("VmRSS:") }
    public var peakResidentKB: Int { statusField("VmHWM:") }

    private func statusField(_ name: String) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix(name) } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// SIGKILL (see `ProcessRunner.kill`); callers stop it in a `defer`.
    public func stop() { ProcessRunner.kill(process) }
}
