import ArgumentParser
import CollectorCore
import Foundation

/// `recorder-collector admin segment list`: the catalog's segments, filtered like the API's search.
struct SegmentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment", abstract: "Catalogued screen segments.", subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List segments, oldest first (same filters as GET /api/v1/admin/segments).")
        @OptionGroup var common: CommonOptions
        @Option(name: .customLong("agent"), help: "Only this agent's segments.") var agentId: String?
        @Option(name: .customLong("call"), help: "Only segments of this call id.") var callId: String?
        @Option(help: "Only this chain state: first, linked, pending or broken.") var chain: String?
        @Option(help: "First frame at or after this RFC 3339 time.") var from: String?
        @Option(help: "First frame before this RFC 3339 time.") var to: String?
        @Option(help: "At most this many (1–10000).") var limit = 100
        @Flag(help: "Print JSON rows.") var json = false

        func run() async throws {
            var state: SegmentRecord.ChainState?
            if let chain {
                guard let parsed = SegmentRecord.ChainState(rawValue: chain) else {
                    throw ValidationError("--chain must be first, linked, pending or broken")
                }
                state = parsed
            }
            try await withCollector(common) { collector, _ in
                let rows = try await collector.segments.list(
                    .init(agentId: agentId, callId: callId, chain: state, from: from, to: to, limit: limit))
                if json { return try printJSON(rows) }
                for row in rows {
                    let manifest = row.manifest
                    let calls = manifest.callIds.isEmpty ? "-" : manifest.callIds.joined(separator: ",")
                    printRow([
                        manifest.firstFrameTime, row.agentId, "#\(row.sequence)", calls, "\(manifest.durationMs) ms",
                        row.chain.rawValue, "\(row.storageTarget):\(row.objectPath)",
                    ])
                }
            }
        }
    }
}
