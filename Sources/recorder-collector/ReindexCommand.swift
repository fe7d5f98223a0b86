import ArgumentParser
import CollectorCore
import Foundation
import RecorderCore

/// `recorder-collector reindex`: rebuilds the segment catalog from the manifests in every storage
/// target (after a lost database, or to check storage against the catalog).
struct ReindexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reindex",
        abstract: "Rebuild the segment catalog from the manifests in storage.",
        discussion: """
            Walks every storage target, verifies each manifest (signature, the segment's size and SHA-256) \
            and records what the catalog lacks; safe to repeat. Exits 1 when a manifest was refused or a \
            catalog row has no manifest left in storage, and lists them.
            """)

    @OptionGroup var common: CommonOptions

    func run() async throws {
        var clean = true
        try await withCollector(common) { collector, actor in
            let report = try await collector.reindex(by: actor) { message in
                FileHandle.standardError.write(Data("\(message)\n".utf8))
            }
            print(
                "storage targets: \(report.targets.joined(separator: ", "))\nmanifests found: \(report.manifestsFound)\nadded: \(report.added)\nalready catalogued: \(report.alreadyPresent)"
            )
            if !report.selfSignedAgents.isEmpty {
                print(
                    "not enrolled here, checked by key consistency only: \(report.selfSignedAgents.joined(separator: ", "))"
                )
            }
            if !report.refused.isEmpty {
                print("refused: \(report.refused.count)")
                for problem in report.refused {
                    print("  \(OutsideText.printable(problem.location)): \(OutsideText.printable(problem.reason))")
                }
            }
            if !report.missingFromStorage.isEmpty {
                print("catalogued but no manifest in storage: \(report.missingFromStorage.count)")
                for row in report.missingFromStorage {
                    print("  \(row.agentId) #\(row.sequence) \(row.storageTarget):\(row.objectPath)")
                }
            }
            clean = report.isClean
        }
        if !clean { throw ExitCode.failure }
    }
}
