import ArgumentParser
import Foundation
import RecorderAgent
import RecorderCore

/// `recorder-agent login`: a softphone (or the desktop session) tells the collector which phone-system
/// agent sits at this workstation now, so that person's calls follow them to this desk. The
/// integration must allow it (`admin integration add … --workstation-logins`).
struct LoginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Tell the collector that a phone system's agent sits at this workstation now (hot-desking).")

    @Option(help: "The integration (phone system) the identity belongs to.") var integration: String
    @Option(name: .customLong("external-id"), help: "The phone system's identity: a Genesys userId, a Connect agent ARN, an extension.")
    var externalId: String
    @Option(help: "JSON configuration file (for state_directory).") var config: String?
    @Option(name: .customLong("state-dir"), help: "The agent's state directory.") var stateDirectory: String?

    struct Login: Encodable {
        var integration: String
        var externalId: String

        enum CodingKeys: String, CodingKey {
            case integration
            case externalId = "external_id"
        }
    }

    struct Identity: Decodable {
        var agentId: String

        enum CodingKeys: String, CodingKey {
            case agentId = "agent_id"
        }
    }

    func run() throws {
        let file = try config.map(AgentConfiguration.load) ?? AgentConfiguration()
        let state = stateDirectory ?? file.stateDirectory ?? AgentDefaults.stateDirectory()
        guard let link = try CollectorLink.load(stateDirectory: state) else {
            throw ValidationError("this workstation is not enrolled (no collector.json in \(state)): recorder-agent enroll first")
        }
        let identity = try link.client.exchange(
            "POST", "/api/v1/agent/identities", body: Login(integration: integration, externalId: externalId),
            answer: Identity.self)
        print("\(integration) \(externalId) now sits at workstation \(identity.agentId)")
    }
}
