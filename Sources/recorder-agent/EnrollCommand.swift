import ArgumentParser
import Foundation
import RecorderAgent

/// `recorder-agent enroll`: joins this workstation to a collector with a one-time code.
struct EnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll",
        abstract: "Enrol this workstation with a collector (one-time code from an admin) and write its configuration.")

    @Option(help: "The collector's https:// URL.")
    var collector: String

    @Option(help: "The one-time enrolment code, e.g. ABCD-EFGH-JKLM-NPQR.")
    var code: String

    @Option(help: "The collector's CA certificate (PEM), if you have the file.")
    var ca: String?

    @Option(help: "The collector's CA SHA-256 fingerprint, as `recorder-collector serve` prints it.")
    var fingerprint: String?

    @Option(help: "This agent's id (default: the host name).")
    var agentId: String = AgentDefaults.agentId()

    @Option(name: .customLong("state-dir"), help: "State directory (default: $XDG_STATE_HOME/recorder-agent).")
    var stateDirectory: String = AgentDefaults.stateDirectory()

    func validate() throws {
        guard collector.hasPrefix("https://") else { throw ValidationError("--collector must be an https:// URL") }
        guard (ca == nil) != (fingerprint == nil) else {
            throw ValidationError("give exactly one of --ca FILE or --fingerprint SHA256 to trust the collector")
        }
    }

    func run() async throws {
        let caPEM: String
        do {
            if let ca {
                guard let text = try? String(contentsOfFile: ca, encoding: .utf8) else {
                    throw ValidationError("--ca \(ca): cannot read it")
                }
                caPEM = text
            } else {
                caPEM = try await UploadService.onOwnThread {
                    Swift.Result { try CollectorTrust.pinnedCA(collector: collector, fingerprint: fingerprint!) }
                }.get()
            }
            let enrolment = Enrolment(
                collectorURL: collector, stateDirectory: URL(fileURLWithPath: stateDirectory, isDirectory: true),
                agentId: agentId)
            let result = try await UploadService.onOwnThread {
                Swift.Result {
                    try enrolment.enrol(code: code, caPEM: caPEM, hostname: ProcessInfo.processInfo.hostName)
                }
            }.get()
            print(
                """
                enrolled as \(agentId) at node path \(result.nodePath) (storage \(result.storageTarget))
                configuration: \(result.configurationPath)
                record with: recorder-agent record --config \(result.configurationPath)
                """)
        } catch let error as CollectorClient.Failure {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            throw ExitCode.failure
        }
    }
}
