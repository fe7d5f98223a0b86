import ArgumentParser
import Foundation
import RecorderAgent
import RecorderCore

/// `recorder-agent event`: tells the running agent of this workstation about a call, as a softphone
/// or a CTI toolbar on it would (`LocalEventSocket`); the agent acts within a frame.
struct EventCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "event",
        abstract: "Send a call event to this workstation's running agent (record --follow-calls).",
        discussion: """
            Types: \(CallEventType.allCases.map(\.rawValue).joined(separator: ", ")).
            Example: recorder-agent event leg.started --interaction 4711 --leg 4711-a --queue sales
            """)

    @Argument(help: "The event type, e.g. leg.started.") var type: String
    @Option(help: "The interaction (the customer's call as a whole).") var interaction: String?
    @Option(help: "This agent's leg of it.") var leg: String?
    @Option(name: .customLong("related-leg"), help: "The other leg of a transfer, conference or consult.")
    var relatedLeg: String?
    @Option(help: "inbound, outbound or internal.") var direction: String?
    @Option var ani: String?
    @Option var dnis: String?
    @Option var queue: String?
    @Option(help: "Why (a pause, an end).") var reason: String?
    @Option(help: "The event's id (default: a new one); a repeat of an id is ignored.") var id: String?
    @Option(help: "When it happened, RFC 3339 with a zone (default: now).") var at: String?
    @Option(help: "JSON configuration file (for state_directory).") var config: String?
    @Option(name: .customLong("state-dir"), help: "The agent's state directory.") var stateDirectory: String?

    func run() throws {
        let file = try config.map(AgentConfiguration.load) ?? AgentConfiguration()
        let state = stateDirectory ?? file.stateDirectory ?? AgentDefaults.stateDirectory()
        var fields: [String: String] = [
            "event_id": id ?? UUID().uuidString.lowercased(), "type": type,
            "occurred_at": at ?? AgentHeartbeat.timestamp(Date()),
        ]
        for (key, value) in [
            ("interaction_id", interaction), ("leg_id", leg), ("related_leg_id", relatedLeg), ("direction", direction),
            ("ani", ani), ("dnis", dnis), ("queue", queue), ("reason", reason),
        ] {
            if let value { fields[key] = value }
        }
        // Checked here with the contract's own decoder, so a mistake is named before anything is sent.
        let event: CallEvent
        do {
            event = try StrictJSON.decode(CallEvent.self, from: try JSONEncoder().encode(fields))
        } catch {
            throw ValidationError("\(error)")
        }
        let answer = try LocalEventSocket.send(event, stateDirectory: state)
        print(answer)
        guard answer.contains(#""accepted":true"#) else { throw ExitCode.failure }
    }
}
