import ArgumentParser
import CollectorCore
import Foundation
import RecorderCore

/// `recorder-collector verify-storage`: re-hashes every catalogued object and lists missing, altered and
/// unknown ones.
struct VerifyStorageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-storage",
        abstract: "Re-hash the stored segments and manifests against the catalog.",
        discussion: """
            Reads every catalogued segment and manifest back from its storage target and compares size \
            and SHA-256 with the catalog; walks every target for files the catalog does not know. Exits 1 \
            when anything is missing, altered or unknown (unfinished uploads are listed, not counted).
            """)

    @OptionGroup var common: CommonOptions

    func run() async throws {
        var clean = true
        try await withCollector(common) { collector, actor in
            let report = try await collector.verifyStorage(by: actor) { message in
                FileHandle.standardError.write(Data("\(message)\n".utf8))
            }
            print("segments checked: \(report.segmentsChecked) (\(report.bytesHashed) bytes hashed)")
            for (title, findings) in [
                ("missing", report.missing), ("altered", report.altered), ("unknown", report.unknown),
            ]
            where !findings.isEmpty {
                print("\(title): \(findings.count)")
                for finding in findings {
                    print("  \(OutsideText.printable(finding.location)): \(OutsideText.printable(finding.problem))")
                }
            }
            if !report.incompleteUploads.isEmpty {
                print("unfinished uploads (an agent's retry replaces them): \(report.incompleteUploads.count)")
                for location in report.incompleteUploads { print("  \(OutsideText.printable(location))") }
            }
            print(report.isClean ? "storage matches the catalog" : "storage does NOT match the catalog")
            clean = report.isClean
        }
        if !clean { throw ExitCode.failure }
    }
}
