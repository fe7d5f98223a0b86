import ArgumentParser
import Foundation
import RecorderAgent

/// `recorder-agent status`: spool depth, oldest pending segment, refused segments and the last error.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the spool and the last error of this workstation's agent.")

    @Option(help: "JSON configuration file (for output_directory and state_directory).")
    var config: String?

    @Option(name: .customLong("state-dir"), help: "The agent's state directory.")
    var stateDirectory: String?

    @Option(help: "The spool (output) directory.")
    var out: String?

    func run() throws {
        let file = try config.map(AgentConfiguration.load) ?? AgentConfiguration()
        let state = stateDirectory ?? file.stateDirectory ?? AgentDefaults.stateDirectory()
        let status = AgentStatusFile.read(stateDirectory: state)
        guard let spool = out ?? file.outputDirectory ?? status?.spoolDirectory else {
            throw ValidationError("no spool directory known: pass --out DIR or --config FILE")
        }
        let contents = SpoolContents.scan(URL(fileURLWithPath: spool, isDirectory: true))
        print("spool: \(spool)")
        print("  pending segments: \(contents.segments) (\(contents.bytes) bytes)")
        print("  oldest pending: \(contents.oldest ?? "none")")
        // Journals recovery could not use wait for a person; say so on every status.
        let aside = SegmentJournaling.asideDirectory(of: SegmentJournaling.directory(stateDirectory: state))
        let unrecoverable = ((try? FileManager.default.contentsOfDirectory(atPath: aside.path)) ?? []).filter {
            $0.hasSuffix(".journal")
        }
        if !unrecoverable.isEmpty {
            print("  unrecoverable journals: \(unrecoverable.count) in \(aside.path) (kept for inspection; see Agent/README.md)")
        }
        guard let status else {
            print("agent: no status in \(state) (it has not recorded yet)")
            return
        }
        print("agent: pid \(status.pid), last update \(status.updated)")
        print("  segments stored: \(status.segmentsStored), refused: \(status.segmentsRefused)")
        if let error = status.lastError {
            print("  last error: \(error) (at \(status.lastErrorTime ?? "?"))")
        } else {
            print("  last error: none")
        }
    }
}
