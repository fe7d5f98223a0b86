import ArgumentParser
import CollectorCore
import Foundation
import RecorderCore

/// `admin call`: what the collector knows of a call.
struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call", abstract: "Calls as the phone systems reported them.", subcommands: [List.self, Show.self, Timeline.self, Events.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Calls, newest first, with their legs and segments (GET /api/v1/calls).")
        @OptionGroup var common: CommonOptions
        @Option(help: "Started at or after this RFC 3339 time.") var from: String?
        @Option(help: "Started before this RFC 3339 time.") var to: String?
        @Option(help: "active or ended.") var state: String?
        @Option(help: "Only calls with a leg at this workstation (enrolled agent id).") var workstation: String?
        @Option(help: "Only calls with a leg of this phone-system agent identity.") var agent: String?
        @Option(help: "At most this many (1–1000).") var limit = 50
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withCollector(common) { collector, _ in
                let calls = try await collector.calls.list(
                    .init(
                        from: from, to: to, state: state,
                        workstation: workstation, agent: agent, limit: limit))
                if json { return try printJSON(calls) }
                print("STARTED\tINTERACTION\tSTATE\tDIRECTION\tANI\tLEGS\tSEGMENTS")
                for call in calls {
                    let legs = call.legs.map { "\($0.legId)@\($0.workstation ?? "?")" }.joined(separator: ",")
                    printRow([
                        call.startedAt ?? "-", call.interactionId, call.state, call.direction?.rawValue ?? "-",
                        call.ani ?? "-", legs, "\(call.segments)",
                    ])
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One call: its legs, holds, pauses and segments (GET /api/v1/calls/{id}).")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Interaction id.") var interaction: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withCollector(common) { collector, _ in
                guard
                    let detail = try await collector.calls.detail(
                        interaction, events: collector.callEvents, segments: collector.segments)
                else { throw CollectorError(.notFound, "no call \(interaction) in the catalog (admin call list)") }
                if json { return try printJSON(detail) }
                let call = detail.call
                print("call \(call.interactionId) (\(call.integration)): \(call.state), \(call.startedAt ?? "?") to \(call.endedAt ?? "now")")
                for (name, value) in [("direction", call.direction?.rawValue), ("ani", call.ani), ("dnis", call.dnis), ("queue", call.queue)] {
                    if let value { print("  \(name): \(value)") }
                }
                for leg in call.legs {
                    print(
                        "  leg \(leg.legId) (\(leg.kind)): agent \(leg.agent ?? "?") at \(leg.workstation ?? "no workstation"), \(leg.startedAt ?? "?") to \(leg.endedAt ?? "now"), \(leg.segments) segments"
                    )
                    if let previous = leg.previousLegId { print("    from leg \(previous)") }
                    for relation in leg.relatedLegs { print("    \(relation.kind) to leg \(relation.legId) at \(relation.at)") }
                    for hold in leg.holds { print("    held \(hold.from) to \(hold.to ?? "now")") }
                    for pause in leg.pauses { print("    paused \(pause.from) to \(pause.to ?? "now")\(pause.reason.map { " (\($0))" } ?? "")") }
                }
                for anomaly in call.anomalies { print("  note: \(anomaly)") }
                print("segments:")
                for segment in detail.segments {
                    let manifest = segment.manifest
                    print(
                        "  \(manifest.firstFrameTime) \(segment.agentId) #\(segment.sequence) \(manifest.durationMs) ms \(manifest.endReason) \(segment.storageTarget):\(segment.objectPath)"
                    )
                    for gap in manifest.pauseGaps { print("    paused before it: \(gap.from) to \(gap.to) (\(gap.reason))") }
                    for hold in manifest.holds ?? [] { print("    held \(hold.legId): \(hold.from) to \(hold.to)") }
                }
                print("\(detail.events.count) events (admin call events \(call.interactionId))")
                if let timeline = try await collector.timeline(interaction, integration: call.integration) {
                    Self.printTimeline(timeline)
                }
            }
        }
    }

    struct Timeline: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A call's timeline: legs, voice, screen and bands on one clock (GET /api/v1/calls/{id}/timeline).")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Interaction id.") var interaction: String
        @Option(help: "The integration, when two share the interaction id.") var integration: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withCollector(common) { collector, _ in
                guard let timeline = try await collector.timeline(interaction, integration: integration) else {
                    throw CollectorError(.notFound, "no call \(interaction) in the catalog (admin call list)")
                }
                if json { return try printJSON(timeline) }
                Show.printTimeline(timeline)
            }
        }
    }

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
