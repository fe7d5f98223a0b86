import Foundation

/// The failure-injecting HTTPS server (Tests/Fixtures/faulty-dav-server.py) for the faults a real
/// Apache cannot be made to show on demand: a full storage (507) and a server that never answers.
/// Its certificate is signed by a test CA made by openssl, as for Apache. Killed when released.
public final class FaultyDAVServer: @unchecked Sendable {
    public enum Fault: String, Sendable {
        case insufficientStorage = "507"
        case stall
    }

    public let directory: URL
    public let port: Int
    private let process: Process

    public var baseURL: String { "https://127.0.0.1:\(port)/dav" }
    public var caFile: String { directory.appendingPathComponent("ca.pem").path }

    /// The request lines that reached the server ("PUT /dav/…"), in order.
    public var requests: [String] {
        ((try? String(contentsOf: directory.appendingPathComponent("requests.log"), encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
    }

    public init(fault: Fault, on methods: [String] = ["PUT"]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("faulty-dav-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try ApacheDAVServer.makeCertificates(in: directory)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/faulty-dav-server.py")
        let (process, output) = try ProcessRunner.launch(
            try ProcessRunner.which("python3"),
            [
                script.path, "--cert", directory.appendingPathComponent("server.pem").path, "--key",
                directory.appendingPathComponent("server.key").path, "--fault", fault.rawValue, "--on",
                methods.joined(separator: ","), "--log", directory.appendingPathComponent("requests.log").path,
            ])
        self.process = process
        for _ in 0..<200 {
            let printed = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            if let port = Int(printed.trimmingCharacters(in: .whitespacesAndNewlines)) {
                self.port = port
                return
            }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        ProcessRunner.kill(process)
        throw TestFailure("the faulty DAV server did not start")
    }

    deinit { ProcessRunner.kill(process) }
}
