import ArgumentParser
import Foundation
import RecorderAgent
import StorageClient

/// `recorder-agent upload`: one upload pass over the spool (what the running agent does in the
/// background), for operators draining a spool or checking storage settings.
struct UploadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload", abstract: "Upload every pending sealed segment of the spool to the configured storage.")

    @Option(help: "JSON configuration file with output_directory and storage.")
    var config: String

    @Option(help: "The spool directory (default: the config's output_directory).")
    var out: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "warning"

    func run() async throws {
        let logger = try AgentLogging.makeLogger(level: logLevel)
        let file = try AgentConfiguration.load(path: config)
        guard let storage = file.storage else { throw ValidationError("\(config) has no storage section") }
        guard let spool = out ?? file.outputDirectory else {
            throw ValidationError("no spool directory: pass --out DIR or set output_directory in \(config)")
        }
        // An enrolled agent's segments leave the spool only once its collector has recorded them too.
        let collector = try file.stateDirectory.flatMap(CollectorLink.load)
        let uploader = SpoolUploader(
            spool: URL(fileURLWithPath: spool, isDirectory: true), client: WebDAVClient(target: storage),
            collector: collector, logger: logger)
        let pass = await UploadService.onOwnThread { uploader.uploadPending() }
        print("uploaded \(pass.uploaded) segment(s), \(pass.remaining) left in \(spool)")
        if let error = pass.stoppedBy {
            print("stopped: \(error)")
            throw ExitCode.failure
        }
    }
}
