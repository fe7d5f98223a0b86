import ArgumentParser
import Foundation
import Glibc
import RecorderAgent
import RecorderCore
import StorageClient
import TestSupport

/// What strangers cost the agents (issue "Hardening"): one release-built collector with its defaults,
/// and the same 8-agent upload phase three times — alone, with 2 000 silent connections held open
/// (from four loopback addresses, reopened as the collector closes them), and with 20 clients
/// sending wrong Basic passwords — plus an agent's configuration request timed during the password
/// storm, and the collector's peak RSS while three clients download a 1 GB object. Bounded in time.
struct HostileLoadBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collector-hostile", abstract: "Agents' uploads and requests while the collector is under attack.")

    @Option(help: "Simulated agents uploading in parallel.") var agents = 8
    @Option(help: "Seconds per phase.") var seconds = 15.0
    @Option(help: "Silent connections held open during the second phase.") var idleConnections = 2000
    @Option(help: "Size of the object downloaded three times at once, in MB.") var downloadMB = 1024

    func run() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("bench-hostile-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        let collector = try CollectorProcess(dataDirectory: data.path)
        defer { collector.stop() }
        let fleet = try (0..<agents).map { index in try SimulatedFleetAgent.enrol(index: index, at: collector) }
        print(
            "collector defaults (SQLite, built-in store, HTTPS on 127.0.0.1); \(agents) agents, 500 KB segments, \(Int(seconds)) s per phase"
        )
        print("phase                                    done      per s      MB/s   p50 ms   p99 ms")
        let upload: @Sendable (Int) throws -> Void = { worker in try fleet[worker].uploadNext(segmentBytes: 500_000) }

        LoadPhase.run(workers: fleet.count, seconds: seconds, upload).print("uploads, nothing else", megabytesEach: 0.5)
        let quietClient = CollectorClient(baseURL: collector.url, caFile: collector.caFile, token: fleet[0].token)
        LoadPhase.run(workers: 1, seconds: min(seconds, 5)) { _ in
            _ = try quietClient.exchange(
                "GET", "/api/v1/agent/config", body: String?.none, answer: AgentConfigurationDocument.self)
        }.print("agent config GET, nothing else", megabytesEach: nil)

        let port = UInt16(URL(string: collector.url)!.port!)
        let holder = IdleConnectionHolder(port: port, count: idleConnections)
        holder.start()
        Thread.sleep(forTimeInterval: 2)
        let underIdle = LoadPhase.run(workers: fleet.count, seconds: seconds, upload)
        let held = holder.stop()
        underIdle.print("uploads + \(idleConnections) idle connections", megabytesEach: 0.5)
        print("  (the collector closed \(held.closedByServer) silent connections during the phase; they were reopened)")

        let url = collector.url
        let ca = collector.caFile
        let before = collector.peakResidentKB / 1024
        let object = data.appendingPathComponent("store/big.bin")
        _ = FileManager.default.createFile(atPath: object.path, contents: nil)
        let handle = try FileHandle(forWritingTo: object)
        let chunk = Data(repeating: 0x5a, count: 1 << 20)
        for _ in 0..<downloadMB { handle.write(chunk) }
        try handle.close()
        let password = try String(
            contentsOfFile: data.appendingPathComponent("initial-admin-password").path, encoding: .utf8
        )
        .trimmingCharacters(in: .whitespacesAndNewlines)
        let started = Date()
        let received = ByteCounter()
        let downloads = Thread.detachedLoop(seconds: 0, workers: 3) { _ in
            let client = WebDAVClient(
                target: StorageTarget(
                    baseURL: url + "/dav", credentials: .basic(user: "admin", password: password), caFile: ca))
            _ = try? client.get(["big.bin"]) { received.add($0.count) }
        }
        _ = downloads.wait()
        guard received.value == 3 * downloadMB << 20 else {
            throw ValidationError("the downloads received \(received.value) bytes, not \(3 * downloadMB << 20)")
        }
        let elapsed = Date().timeIntervalSince(started)
        print(
            String(
                format: "3 × %d MB GET at once: %.1f s, %.0f MB/s in all; collector peak RSS %d MB (before: %d MB)",
                downloadMB, elapsed, Double(3 * downloadMB) / elapsed, collector.peakResidentKB / 1024,
                before))

        // Each attacker keeps its connection (as a script would), so the storm is requests, not handshakes.
        let attackers = (0..<20).map { _ in
            WebDAVClient(
                target: StorageTarget(
                    baseURL: url + "/dav", credentials: .basic(user: "admin", password: "wrong-password"), caFile: ca))
        }
        let storm = Thread.detachedLoop(seconds: seconds, workers: 20) { worker in
            _ = try? attackers[worker].size(of: ["probe"])
        }
        // The agent's configuration requests and the uploads run during the storm, side by side.
        let agentClient = CollectorClient(baseURL: url, caFile: ca, token: fleet[0].token)
        nonisolated(unsafe) var config = LoadPhase()
        let configDone = DispatchSemaphore(value: 0)
        Thread {
            config = LoadPhase.run(workers: 1, seconds: seconds) { _ in
                _ = try agentClient.exchange(
                    "GET", "/api/v1/agent/config", body: String?.none, answer: AgentConfigurationDocument.self)
            }
            configDone.signal()
        }.start()
        let stormUploads = LoadPhase.run(workers: fleet.count, seconds: seconds, upload)
        configDone.wait()
        let attempts = storm.wait()
        config.print("agent config GET during the storm", megabytesEach: nil)
        stormUploads.print("uploads during the storm", megabytesEach: 0.5)
        print("  (\(attempts) wrong-password requests from 20 clients on one address; past the throttle they get 429)")

    }
}

/// Keeps `count` TCP connections open to the collector without sending a byte, from four loopback
/// addresses (the per-address cap would refuse most from one), reopening each the collector closes.
final class IdleConnectionHolder: @unchecked Sendable {
    let port: UInt16
    let count: Int
    private var sockets: [Int32] = []
    private var running = true
    private var closed = 0
    private let done = DispatchSemaphore(value: 0)

    init(port: UInt16, count: Int) {
        self.port = port
        self.count = count
    }

    func start() {
        Thread {
            self.sockets = (0..<self.count).map { self.open($0) }
            while self.running {
                var polls = self.sockets.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
                _ = poll(&polls, nfds_t(polls.count), 200)
                for (index, entry) in polls.enumerated() where entry.revents != 0 || entry.fd < 0 {
                    if entry.fd >= 0 { close(entry.fd) }
                    self.closed += 1
                    self.sockets[index] = self.open(index)
                }
            }
            self.sockets.forEach { if $0 >= 0 { close($0) } }
            self.done.signal()
        }.start()
    }

    func stop() -> (closedByServer: Int, Void) {
        running = false
        done.wait()
        return (closed, ())
    }

    private func open(_ index: Int) -> Int32 {
        RawConnection.open(port: port, source: "127.0.0.\(10 + index % 4)")
    }
}

/// A byte count several threads add to.
final class ByteCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0
    func add(_ count: Int) { lock.withLock { total += count } }
    var value: Int { lock.withLock { total } }
}

extension Thread {
    /// `workers` threads repeating `body` for `seconds` (once each when 0); `wait()` gives the count.
    final class Loop: @unchecked Sendable {
        private let group = DispatchGroup()
        private let lock = NSLock()
        private var count = 0

        fileprivate init(seconds: Double, workers: Int, body: @escaping @Sendable (Int) -> Void) {
            let deadline = Date().addingTimeInterval(seconds)
            for worker in 0..<workers {
                group.enter()
                Thread {
                    repeat {
                        body(worker)
                        self.lock.withLock { self.count += 1 }
                    } while Date() < deadline
                    self.group.leave()
                }.start()
            }
        }

        func wait() -> Int {
            group.wait()
            return lock.withLock { count }
        }
    }

    static func detachedLoop(seconds: Double, workers: Int, _ body: @escaping @Sendable (Int) -> Void) -> Loop {
        Loop(seconds: seconds, workers: workers, body: body)
    }
}
