import ArgumentParser
import CollectorCore
import Foundation
import Logging
import RecorderCore
import TestSupport

/// How fast call search answers with a large catalog: `--calls` calls (100 000 by default) across 200
/// workstations under 10 sites, then the searches QA runs, each timed as the median of 7 runs (after
/// one to warm up), for an admin and for a supervisor of one site, on SQLite and (with `--postgres`)
/// a real PostgreSQL started for the run. Through `CallCatalog.list`, the query the API runs.
struct SearchBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Call search query times with 100 000 calls, SQLite and PostgreSQL.")

    @Option(help: "Calls in the catalog.") var calls = 100_000
    @Flag(help: "Also run against a PostgreSQL catalog (started for the run).") var postgres = false

    func run() async throws {
        try await measure(database: nil, label: "SQLite")
        if postgres {
            let server = try PostgresServer()
            defer { server.stop() }
            try await measure(database: .postgres(url: try server.makeDatabase()), label: "PostgreSQL")
        }
    }

    private func measure(database: DatabaseLocation?, label: String) async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("bench-search-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let collector = try await Collector.open(
            dataDirectory: data, database: database, hashing: .fast, recordingKeyBits: 2048, logger: logger)
        let seeded = Date()
        try await seed(collector)
        print("\(label): \(calls) calls catalogued in \(String(format: "%.1f", Date().timeIntervalSince(seeded))) s")
        let supervisor = Access(
            try await collector.users.create(
                username: "sup", password: "bench password one", profile: .init(role: .supervisor, scopes: ["/emea/site-3"]),
                by: .system))
        let day = "2026-11-15T00:00:00Z"
        let searches: [(String, CallCatalog.Query)] = [
            ("newest 100", .init(limit: 100)),
            ("one day", .init(from: day, to: "2026-11-16T00:00:00Z", limit: 100)),
            ("ANI prefix +33140*", { var q = CallCatalog.Query(limit: 100); q.ani = "+33140*"; return q }()),
            ("queue billing,sales and > 300 s", { var q = CallCatalog.Query(limit: 100); q.queue = "billing,sales"; q.duration = ">300"; return q }()),
            ("exact ANI", { var q = CallCatalog.Query(limit: 100); q.ani = "+33140012345"; return q }()),
            ("agent, one week", .init(from: "2026-11-10T00:00:00Z", to: "2026-11-17T00:00:00Z", agent: "agent-42", limit: 100)),
            ("with voice", { var q = CallCatalog.Query(limit: 100); q.hasVoice = true; return q }()),
            ("supervisor: newest 100", .init(limit: 100, access: supervisor)),
            ("supervisor: queue and > 300 s", { var q = CallCatalog.Query(limit: 100, access: supervisor); q.queue = "retention"; q.duration = ">300"; return q }()),
            ("has notes", { var q = CallCatalog.Query(limit: 100); q.hasNotes = true; return q }()),
            ("category complaint", { var q = CallCatalog.Query(limit: 100); q.category = "complaint"; return q }()),
            ("QA score < 50", { var q = CallCatalog.Query(limit: 100); q.score = "<50"; return q }()),
            ("words: refund (1 call in 200)", { var q = CallCatalog.Query(limit: 100); q.text = "refund"; return q }()),
            ("words: TK-1234 (one call)", { var q = CallCatalog.Query(limit: 100); q.text = "TK-1234"; return q }()),
            ("words: nothing matches", { var q = CallCatalog.Query(limit: 100); q.text = "zebra"; return q }()),
            ("page 51 (offset 5000)", { var q = CallCatalog.Query(limit: 100); q.offset = 5000; return q }()),
            ("supervisor: words refund", { var q = CallCatalog.Query(limit: 100, access: supervisor); q.text = "refund"; return q }()),
        ]
        print("search                                   found   median ms   max ms")
        for (name, query) in searches {
            _ = try await collector.calls.list(query)
            var times: [Double] = []
            var found = 0
            for _ in 0..<7 {
                let start = DispatchTime.now().uptimeNanoseconds
                found = try await collector.calls.list(query).count
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            times.sort()
            print(
                name.padding(toLength: 40, withPad: " ", startingAt: 0) + String(format: "%6d   %9.1f   %6.1f", found, times[3], times[6]))
        }
        await collector.close()
    }

    /// The calls, their legs, the workstations they were taken at and a voice recording for one in ten:
    /// in transactions of 1000, as rows the catalog itself would write.
    private func seed(_ collector: Collector) async throws {
        let queues = ["billing", "sales", "support", "retention", "claims"]
        let directions: [CallDirection] = [.inbound, .inbound, .inbound, .outbound]
        let base = CallEvent.parseTime("2026-11-01T08:00:00Z")!
        try await collector.catalog.transaction { database in
            for index in 0..<200 {
                try await database.raw(
                    """
                    INSERT INTO agents (id, node_path, token_hash, signing_key, hostname, enrolled_at)
                    VALUES (\(bind: "ws-\(index)"), \(bind: "/emea/site-\(index % 10)/team-\(index % 7)"), \(bind: "bench-\(index)"),
                        'bench', 'bench', '2026-11-01T00:00:00.000Z')
                    """
                ).run()
            }
        }
        _ = try await collector.reviewDefinitions.addCategory("complaint", description: "", by: .system)
        _ = try await collector.reviewDefinitions.addField(.init(name: "ticket", label: "Ticket", kind: .text), by: .system)
        var random = SystemRandomNumberGenerator()
        var index = 0
        while index < calls {
            let batch = min(1000, calls - index)
            let first = index
            let rows: [Row] = (first..<first + batch).map { number in
                // Spread over 30 days of office hours; lengths 20 s to 20 min.
                let start = Timestamp.string(base.addingTimeInterval(Double(number % 30) * 86400 + Double(number * 7 % 36000)))
                let length = Int64(20 + Int.random(in: 0..<1180, using: &random))
                let end = Timestamp.string(CallEvent.parseTime(start)!.addingTimeInterval(Double(length)))
                return Row(
                    id: "call-\(number)", start: start, end: end, direction: directions[number % 4].rawValue,
                    ani: String(format: "+3314%07d", number % 9_999_999), dnis: "\(3000 + number % 20)", queue: queues[number % 5],
                    workstation: "ws-\(number % 200)", agent: "agent-\(number % 200)", durationMs: length * 1000)
            }
            try await collector.catalog.transaction { database in
                var calls = database.insert(into: "calls").columns(
                    "interaction_id", "integration", "state", "started_at", "ended_at", "direction", "ani", "dnis", "queue", "record",
                    "updated_at", "duration_ms", "search_text")
                var legs = database.insert(into: "call_legs").columns(
                    "integration", "interaction_id", "leg_id", "workstation", "agent", "state", "started_at", "ended_at")
                for row in rows {
                    calls = calls.values(
                        row.id, "pbx", "ended", row.start, row.end, row.direction, row.ani, row.dnis, row.queue, try row.record(),
                        row.end, row.durationMs, [row.id, row.ani, row.dnis, row.queue, row.agent, row.workstation].joined(separator: "\n"))
                    legs = legs.values("pbx", row.id, "leg-\(row.id)", row.workstation, row.agent, "ended", row.start, row.end)
                }
                try await calls.run()
                try await legs.run()
                // What reviewers added: a note on one call in 20 ("refund" in one in 200), a category on
                // one in 25, a score on one in 10, a ticket number on one in 50.
                for row in rows {
                    let number = Int(row.id.dropFirst(5))!
                    if number % 20 == 0 {
                        let body = number % 200 == 0 ? "Caller asks for a refund of the last invoice" : "Caller asks about the last invoice"
                        try await database.raw(
                            """
                            INSERT INTO call_notes (integration, interaction_id, at_ms, body, author, created_at)
                            VALUES ('pbx', \(bind: row.id), 1000, \(bind: body), 'qa', \(bind: row.end))
                            """
                        ).run()
                    }
                    if number % 25 == 0 {
                        try await database.raw(
                            """
                            INSERT INTO call_categories (integration, interaction_id, category, added_by, added_at)
                            VALUES ('pbx', \(bind: row.id), 'complaint', 'qa', \(bind: row.end))
                            """
                        ).run()
                    }
                    if number % 10 == 0 {
                        try await database.raw(
                            "UPDATE calls SET qa_score = \(bind: number / 10 % 101) WHERE integration = 'pbx' AND interaction_id = \(bind: row.id)"
                        ).run()
                    }
                    if number % 50 == 0 {
                        try await database.raw(
                            """
                            INSERT INTO call_field_values (integration, interaction_id, field, value, set_by, set_at)
                            VALUES ('pbx', \(bind: row.id), 'ticket', \(bind: "TK-\(number / 50)"), 'qa', \(bind: row.end))
                            """
                        ).run()
                    }
                }
                for row in rows where Int(row.id.dropFirst(5))! % 10 == 0 {
                    try await database.raw(
                        """
                        INSERT INTO call_links (integration, interaction_id, kind, object_id, method, confidence_permille, offset_ms)
                        VALUES ('pbx', \(bind: row.id), 'voice', \(bind: "v-\(row.id)"), 'interaction', 1000, 0)
                        """
                    ).run()
                }
            }
            index += batch
        }
    }

    /// One seeded call, and the catalog's JSON of it (checked to decode as a `CallRecord`).
    struct Row {
        var id, start, end, direction, ani, dnis, queue, workstation, agent: String
        var durationMs: Int64

        func record() throws -> String {
            let object: [String: Any] = [
                "interaction_id": id, "integration": "pbx", "state": "ended", "started_at": start, "ended_at": end,
                "direction": direction, "ani": ani, "dnis": dnis, "queue": queue, "event_count": 2, "anomalies": [String](),
                "segments": 0,
                "legs": [
                    [
                        "leg_id": "leg-\(id)", "kind": "call", "agent": agent, "workstation": workstation, "state": "ended",
                        "started_at": start, "ended_at": end, "related_legs": [Any](), "holds": [Any](), "pauses": [Any](),
                        "segments": 0,
                    ] as [String: Any]
                ],
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            _ = try JSONDecoder().decode(CallRecord.self, from: data)
            return String(decoding: data, as: UTF8.self)
        }
    }
}
