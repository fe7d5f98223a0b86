import ArgumentParser
import CollectorCore
import Foundation

/// `admin call`: what the collector knows of a call.
struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call", abstract: "Calls as the phone systems reported them.", subcommands: [Events.self])

    struct Events: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "An interaction's events, by when they happened (GET /api/v1/admin/calls/{id}/events).")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Interaction id.") var interaction: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withCollector(common) { collector, _ in
                let events = try await collector.callEvents.events(interactionId: interaction)
                if json { return try printJSON(events) }
                print("OCCURRED\tTYPE\tLEG\tAGENT\tREASON\tINTEGRATION\tRECEIVED")
                for stored in events {
                    let event = stored.event
                    printRow([
                        event.occurredAt, event.type.rawValue, event.legId ?? "-", event.agentId ?? "-",
                        event.reason ?? "-", stored.integration, event.receivedAt ?? "-",
                    ])
                }
            }
        }
    }
}
