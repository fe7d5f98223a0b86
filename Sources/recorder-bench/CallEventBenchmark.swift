import ArgumentParser
import Foundation
import RecorderAgent
import RecorderCore
import TestSupport

/// Call events one collector accepts on this machine: integrations posting batches (and single events)
/// to `POST /api/v1/cti/events` over HTTPS, each event stored once with its raw body and routed to a
/// workstation, on SQLite and (with `--postgres`) on a real PostgreSQL started for the run.
struct CallEventBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cti-events", abstract: "Call events/s one collector accepts, batched and one by one, with p99.")

    @Option(help: "Integrations posting in parallel.") var clients = 4
    @Option(help: "Seconds per phase.") var seconds = 10.0
    @Option(help: "Events per batch.") var batch = 50
    @Flag(help: "Also run against a PostgreSQL catalog (started for the run).") var postgres = false

    func run() throws {
        print("phase                                    done      per s   events/s   p50 ms   p99 ms")
        try phases(database: nil, label: "SQLite")
        if postgres {
            let server = try PostgresServer()
            defer { server.stop() }
            try phases(database: try server.makeDatabase(), label: "PostgreSQL")
        }
    }

    private func phases(database: String?, label: String) throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("bench-cti-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        let environment = database.map { ["RECORDER_COLLECTOR_DATABASE": $0] } ?? [:]
        let collector = try CollectorProcess(dataDirectory: data.path, environment: environment)
        defer { collector.stop() }
        let collectorTool = ProcessRunner.product("recorder-collector")
        func cli(_ arguments: [String]) throws -> String {
            let result = try ProcessRunner.run(collectorTool, arguments + ["--data-dir", data.path], environment: environment)
            guard result.status == 0 else { throw ValidationError("\(arguments.joined(separator: " ")): \(result.stderr)") }
            return result.stdout
        }
        let token = String(try cli(["admin", "integration", "add", "bench-pbx"]).split(separator: "\n").last ?? "")
        let client = CollectorClient(baseURL: collector.url, caFile: collector.caFile, token: token)
        let counter = Counter()
        let batchSize = batch
        @Sendable func events(_ count: Int) -> [CallEvent] {
            (0..<count).map { _ in
                let n = counter.increment()
                return CallEvent(
                    eventId: "bench-\(n)", type: .legStarted, occurredAt: "2026-11-23T12:00:00.000Z",
                    interactionId: "call-\(n / 4)", legId: "leg-\(n)", agentId: "agent-\(n % 100)", direction: .inbound,
                    ani: "+33123456789", queue: "billing")
            }
        }
        let batched = LoadPhase.run(workers: clients, seconds: seconds) { _ in
            let answer = try client.exchange(
                "POST", "/api/v1/cti/events", body: CallEventBatch(events: events(batchSize)),
                answer: CallEvents.self)
            guard answer.accepted == batchSize else { throw ValidationError("accepted \(answer.accepted) of \(batchSize)") }
        }
        batched.print("\(label): batches of \(batchSize)", eventsEach: batchSize)
        let single = LoadPhase.run(workers: clients, seconds: seconds) { _ in
            _ = try client.exchange("POST", "/api/v1/cti/events", body: events(1)[0], answer: CallEvents.self)
        }
        single.print("\(label): one event per post", eventsEach: 1)
        print(
            String(format: "%@: collector %.1f s CPU over both phases, peak RSS %d MB", label, collector.cpuSeconds,
                collector.peakResidentKB / 1024))
        if let error = batched.firstError ?? single.firstError { print("first failure: \(error)") }
    }

    /// What a post answers (decoded by the agent's client, unknown keys ignored).
    struct CallEvents: Decodable {
        var accepted: Int
    }
}

extension LoadPhase {
    func print(_ label: String, eventsEach: Int) {
        let rate = Double(completed) / max(seconds, 0.001)
        Swift.print(
            label.padding(toLength: 38, withPad: " ", startingAt: 0)
                + String(format: "%7d %10.1f %10.0f", completed, rate, rate * Double(eventsEach))
                + String(format: " %8.1f %8.1f", percentile(0.5), percentile(0.99)))
    }
}
