import ArgumentParser
import CollectorCore
import Foundation

/// `recorder-collector audit` (also `admin audit`): the audit trail, newest first, and `verify`, which
/// checks its hash chain and signed checkpoints and names the first entry that is not as written.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The audit trail: list it, or verify that nothing in it was altered or removed.",
        subcommands: [List.self, Verify.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the audit log, newest first.")
        @OptionGroup var common: CommonOptions
        @Option var limit = 50

        func run() async throws {
            try await withCollector(common) { collector, _ in
                for entry in try await AuditLog.entries(limit: limit, in: collector.catalog.sql) {
                    printRow([entry.at, entry.actor, entry.source, entry.action, entry.target, entry.detail])
                }
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the chain from its first entry: exit 0 when intact, 1 naming the first altered or missing entry.")
        @OptionGroup var common: CommonOptions
        @Flag(help: "Print the report as JSON.") var json = false

        func run() async throws {
            var intact = false
            try await withCollector(common) { collector, actor in
                let report = try await collector.verifyAudit(by: actor)
                intact = report.ok
                if json { return try printJSON(report) }
                if let problem = report.problem {
                    print("audit trail NOT intact: \(problem)")
                } else {
                    let head = report.headSeq.map { "entry \($0), hash \(report.headHash ?? "")" } ?? "empty"
                    print("audit trail intact: \(report.entries) entries, head \(head)")
                    if let seq = report.lastCheckpointSeq {
                        print("  \(report.checkpoints) signed checkpoints, the last at entry \(seq) (\(report.lastCheckpointAt ?? ""))")
                    }
                }
            }
            if !intact { throw ExitCode(1) }
        }
    }
}
