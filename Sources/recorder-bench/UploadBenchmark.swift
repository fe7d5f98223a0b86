import ArgumentParser
import Foundation
import RecorderAgent
import RecorderCore
import StorageClient
import TestSupport

/// Upload throughput to a real Apache mod_dav over HTTPS (Digest) on loopback, started here: the full
/// per-segment protocol (`WebDAVClient.store` of the sealed file and of its ~1 KB manifest: PUT to a
/// temporary name, MOVE, HEAD) at 1, 2 and 4 parallel uploads, next to the floor of one bare PUT per
/// segment over the same connection settings.
struct UploadBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload", abstract: "Upload throughput to Apache mod_dav over HTTPS on loopback.")

    @Option(help: "Segment size in MB (a 60 s segment at 300 kbit/s is ~2.2 MB).")
    var segmentMB: Double = 2.2

    @Option(help: "Segments per run.")
    var segments: Int = 40

    @Option(help: "Parallel uploads to measure (repeatable).")
    var parallel: [Int] = [1, 2, 4]

    func run() throws {
        let server = try ApacheDAVServer()
        defer { server.stop() }
        let target = StorageTarget(
            baseURL: server.baseURL, credentials: .digest(user: server.user, password: server.password),
            caFile: server.caFile)
        var generator = SystemRandomNumberGenerator()
        let segment = (0..<Int(segmentMB * 1_000_000)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let manifest = [UInt8](repeating: 0x7B, count: 1100)
        print(
            String(format: "Apache mod_dav, HTTPS + Digest on 127.0.0.1; %d segments of %.1f MB", segments, segmentMB))
        print("mode                      parallel   seconds   segments/s      MB/s   ms/segment")

        try measure(parallel: 1, label: "bare PUT (floor)") { client, directory, index in
            try client.put(segment, to: directory + ["bare-\(index).webm.p7m"])
        }
        for parallelism in parallel {
            let run = UUID().uuidString.prefix(8)
            try measure(parallel: parallelism, label: "store segment + manifest") { client, directory, index in
                try client.store(segment, in: directory, name: "\(run)-\(index).webm.p7m")
                try client.store(manifest, in: directory, name: "\(run)-\(index).json")
            }
        }

        func measure(
            parallel: Int, label: String, _ body: @escaping @Sendable (WebDAVClient, [String], Int) throws -> Void
        ) throws {
            let client = WebDAVClient(target: target)
            let directory = ["bench", "2026", "11", "23", "ws-bench", "standalone"]
            try client.makeCollections(directory)
            let next = Counter()
            let failure = Counter()
            let clock = ContinuousClock()
            let count = segments
            let elapsed = clock.measure {
                let group = DispatchGroup()
                for _ in 0..<parallel {
                    group.enter()
                    Thread {
                        defer { group.leave() }
                        while case let index = next.increment(), index < count {
                            do { try body(client, directory, index) } catch { _ = failure.increment() }
                        }
                    }.start()
                }
                group.wait()
            }
            let seconds = elapsed.timeInterval
            guard failure.value == 0 else { throw ValidationError("\(failure.value) uploads failed in \(label)") }
            print(
                label.padding(toLength: 26, withPad: " ", startingAt: 0)
                    + String(
                        format: "%8d %9.2f %12.1f %9.1f %12.1f", parallel, seconds, Double(count) / seconds,
                        Double(count) * segmentMB / seconds, seconds * 1000 / Double(count)))
        }
    }
}

/// A shared counter for the benchmarks' worker threads.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func increment() -> Int {
        lock.lock()
        defer { lock.unlock() }
        count += 1
        return count - 1
    }

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}
