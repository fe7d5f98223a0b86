import ArgumentParser
import Foundation
import RecorderAgent
import RecorderCore
import StorageClient
import TestSupport

/// What one collector sustains on this machine: simulated enrolled agents (real tokens, real Ed25519
/// manifests, the agent's own upload code) against `recorder-collector serve` with its SQLite catalog
/// and built-in store, over HTTPS on 127.0.0.1. Two bounded phases: uploads (each segment stored the
/// way the agent stores it, then its manifest file) and manifest reports (intake: signature, stored
/// object's SHA-256, chain, one catalog transaction). The upload phase runs again against Apache
/// mod_dav with the same protocol as the baseline. Prints rates, p50/p99 latency, CPU and peak RSS.
struct CollectorLoadBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collector", abstract: "Uploads/s and manifests/s one collector sustains, with p99 latency.")

    @Option(help: "Simulated agents working in parallel.") var agents = 8
    @Option(help: "Seconds per phase (each phase stops taking work then).") var seconds = 20.0
    @Option(help: "Sealed segment size in KB (a 60 s segment of an office screen at 300 kbit/s: 200–2200 KB).")
    var segmentKB = 500

    func run() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("bench-collector-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        let collector = try CollectorProcess(dataDirectory: data.path)
        defer { collector.stop() }
        let fleet = try (0..<agents).map { index in try SimulatedFleetAgent.enrol(index: index, at: collector) }
        print(
            "collector: SQLite catalog, built-in store, HTTPS on 127.0.0.1; \(agents) agents in parallel, \(segmentKB) KB segments, \(Int(seconds)) s per phase; \(ProcessInfo.processInfo.activeProcessorCount) cores"
        )
        print("phase                                    done      per s      MB/s   p50 ms   p99 ms")

        let uploads = LoadPhase.run(workers: fleet.count, seconds: seconds) { worker in
            try fleet[worker].uploadNext(segmentBytes: segmentKB * 1000)
        }
        uploads.print("upload segment + manifest (collector)", megabytesEach: Double(segmentKB) / 1000)
        let reports = LoadPhase.run(workers: fleet.count, seconds: seconds) { worker in
            try fleet[worker].reportNext()
        }
        reports.print("manifest intake (verify + catalog)", megabytesEach: nil)
        if reports.completed < uploads.completed {
            Swift.print(
                "  (\(uploads.completed - reports.completed) uploaded segments left unreported when time ran out)")
        }
        let usage = (cpuSeconds: collector.cpuSeconds, peakRSSKB: collector.peakResidentKB)
        Swift.print(
            String(
                format: "collector process: %.1f s CPU over both phases, peak RSS %d MB", usage.cpuSeconds,
                usage.peakRSSKB / 1024))

        let apache = try ApacheDAVServer()
        defer { apache.stop() }
        let baseline = LoadPhase.run(workers: fleet.count, seconds: seconds) { worker in
            try fleet[worker].uploadNext(segmentBytes: segmentKB * 1000, to: apache)
        }
        baseline.print("upload segment + manifest (Apache)", megabytesEach: Double(segmentKB) / 1000)
        guard uploads.failures + reports.failures + baseline.failures == 0 else {
            throw ValidationError(
                "failures: \(uploads.failures) uploads, \(reports.failures) reports, \(baseline.failures) Apache uploads; first: \(uploads.firstError ?? reports.firstError ?? baseline.firstError ?? "")"
            )
        }
    }
}
