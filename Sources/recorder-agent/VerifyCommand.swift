import ArgumentParser
import Foundation
import RecorderCore

/// `recorder-agent verify DIR`: signatures, stored hashes and the hash chain of a directory of manifests.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the manifests in a directory: signatures, segment sizes and hashes, the hash chain.")

    @Argument(help: "Directory holding .webm.p7m segments and their .json manifests.")
    var directory: String

    @Option(
        name: .customLong("public-key"),
        help: "The agent's enrolled Ed25519 public key (base64); default: the first manifest's.")
    var publicKey: String?

    func run() throws {
        let report = try ManifestDirectoryVerifier.verify(
            directory: URL(fileURLWithPath: directory, isDirectory: true), expectedPublicKey: publicKey)
        if report.isIntact {
            print("OK: \(report.manifestsChecked) manifest(s), signatures valid, segments match, chain intact")
            return
        }
        print("BROKEN: first break: \(report.problems[0])")
        for problem in report.problems.dropFirst() { print("  also: \(problem)") }
        throw ExitCode.failure
    }
}
