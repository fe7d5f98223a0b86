import Foundation
import RecorderCore

/// What the catalog knows of one interaction: its legs (which agent, at which workstation, when, on
/// hold when, paused when, related to which other leg) folded from every event stored for it.
///
/// The fold always starts from the whole event log of the interaction, sorted by when each event
/// happened (source clock, then our receive time, then the feed's sequence), so the result does not
/// depend on the order the feed delivered them in: a late start, a repeated end or a hold that arrives
/// after the leg ended give the same call as a feed that behaved.
public struct CallRecord: Codable, Sendable, Equatable {
    public var interactionId: String
    public var integration: String
    /// `active` while a leg is, `ended` once every leg has ended.
    public var state: String
    public var startedAt: String?
    public var endedAt: String?
    public var direction: CallDirection?
    public var ani: String?
    public var dnis: String?
    public var queue: String?
    public var legs: [Leg]
    public var eventCount: Int
    /// Screen segments catalogued for the call, over all its legs (filled in by the catalog).
    public var segments = 0
    /// What the feed got wrong, for the admin (an end without its start, a hold of a leg that ended).
    public var anomalies: [String]
    /// In search results: the latest QA score and the number of notes (filled in by the catalog).
    public var qaScore: Int?
    public var notes: Int?

    public struct Leg: Codable, Sendable, Equatable {
        public var legId: String
        /// `call` for a leg the agent took, `consult` for one opened from another leg, `screen` for
        /// screen-only work (email, chat).
        public var kind: String
        /// The phone system's identity of the agent, and the workstation the leg's events went to.
        public var agent: String?
        public var workstation: String?
        /// `active`, `held` or `ended`.
        public var state: String
        public var startedAt: String?
        public var endedAt: String?
        public var afterCallWorkEndedAt: String?
        /// The leg this one came from (a transfer's new leg names the one transferred), and the legs it
        /// was transferred, conferenced or consulted to.
        public var previousLegId: String?
        public var relatedLegs: [Relation]
        public var holds: [Interval]
        public var pauses: [Interval]
        /// Screen segments catalogued for the leg (filled in by the catalog, not the fold).
        public var segments: Int

        public struct Relation: Codable, Sendable, Equatable {
            public var legId: String
            /// `transfer`, `conference` or `consult`.
            public var kind: String
            public var at: String
        }

        enum CodingKeys: String, CodingKey {
            case kind, agent, workstation, state, holds, pauses, segments
            case legId = "leg_id"
            case startedAt = "started_at"
            case endedAt = "ended_at"
            case afterCallWorkEndedAt = "acw_ended_at"
            case previousLegId = "previous_leg_id"
            case relatedLegs = "related_legs"
        }
    }

    /// From `from` to `to` (nil while it lasts), UTC text.
    public struct Interval: Codable, Sendable, Equatable {
        public var from: String
        public var to: String?
        public var reason: String?
    }

    enum CodingKeys: String, CodingKey {
        case integration, state, direction, ani, dnis, queue, legs, anomalies, segments
        case interactionId = "interaction_id"
        case startedAt = "started_at"
        case endedAt = "ended_at"
        case eventCount = "event_count"
        case qaScore = "qa_score"
        case notes
    }
}

/// One stored event with where it was delivered: the fold's input.
struct ProjectedEvent: Sendable {
    var integration: String
    var event: CallEvent
    /// The workstation the event was routed to, if any.
    var workstation: String?
}

enum CallProjection {
    /// Folds an interaction's events (in any order) into its record.
    static func fold(interactionId: String, events unordered: [ProjectedEvent]) -> CallRecord {
        // Keys computed once: UTC text sorts by instant whatever zone the feed wrote.
        let events = unordered.map { (at: Timestamp.string($0.event.occurred), item: $0) }.sorted { a, b in
            let left = (a.at, a.item.event.receivedAt ?? "", a.item.event.sourceSequence ?? 0)
            let right = (b.at, b.item.event.receivedAt ?? "", b.item.event.sourceSequence ?? 0)
            return left != right ? left < right : a.item.event.eventId < b.item.event.eventId
        }
        var record = CallRecord(
            interactionId: interactionId, integration: events.first?.item.integration ?? "", state: "active", legs: [],
            eventCount: events.count, anomalies: [])
        var order: [String] = []
        var legs: [String: CallRecord.Leg] = [:]

        func leg(_ id: String, kind: String = "call") -> CallRecord.Leg {
            legs[id]
                ?? CallRecord.Leg(
                    legId: id, kind: kind, state: "active", relatedLegs: [], holds: [], pauses: [], segments: 0)
        }
        func store(_ value: CallRecord.Leg) {
            if legs[value.legId] == nil { order.append(value.legId) }
            legs[value.legId] = value
        }
        func note(_ text: String) {
            if record.anomalies.count < 50 { record.anomalies.append(text) }
        }
        func closeOpen(_ intervals: inout [CallRecord.Interval], at time: String) {
            for index in intervals.indices where intervals[index].to == nil { intervals[index].to = time }
        }

        for (at, item) in events {
            let event = item.event
            record.direction = record.direction ?? event.direction
            record.ani = record.ani ?? event.ani
            record.dnis = record.dnis ?? event.dnis
            record.queue = record.queue ?? event.queue
            let legId = event.legId ?? interactionId
            switch event.type {
            case .legStarted, .screenWorkStarted:
                var value = leg(legId, kind: event.type == .screenWorkStarted ? "screen" : "call")
                if value.startedAt != nil {
                    note("\(event.type.rawValue) \(event.eventId): leg \(legId) had started already")
                    break
                }
                value.startedAt = at
                value.agent = value.agent ?? event.agentId
                value.workstation = value.workstation ?? item.workstation
                value.previousLegId = value.previousLegId ?? event.relatedLegId
                if value.endedAt != nil {
                    note("leg \(legId): its end arrived before its start")
                }
                store(value)
            case .legHeld, .legResumed:
                var value = leg(legId)
                guard value.endedAt == nil else {
                    note("\(event.type.rawValue) \(event.eventId): leg \(legId) had ended")
                    break
                }
                if event.type == .legHeld {
                    if !value.holds.contains(where: { $0.to == nil }) {
                        value.holds.append(.init(from: at, to: nil, reason: event.reason))
                    }
                    value.state = "held"
                } else {
                    closeOpen(&value.holds, at: at)
                    value.state = "active"
                }
                value.workstation = value.workstation ?? item.workstation
                store(value)
            case .legTransferred, .legConferenced, .consultStarted:
                var value = leg(legId)
                let kind =
                    event.type == .legTransferred ? "transfer" : event.type == .legConferenced ? "conference" : "consult"
                if let related = event.relatedLegId {
                    value.relatedLegs.append(.init(legId: related, kind: kind, at: at))
                    if event.type == .consultStarted {
                        // The consult leg is this agent's too: it runs on the same workstation.
                        var consult = leg(related, kind: "consult")
                        consult.startedAt = consult.startedAt ?? at
                        consult.previousLegId = consult.previousLegId ?? legId
                        consult.agent = consult.agent ?? event.agentId ?? value.agent
                        consult.workstation = consult.workstation ?? item.workstation ?? value.workstation
                        store(value)
                        store(consult)
                        break
                    }
                }
                store(value)
            case .consultEnded:
                guard let related = event.relatedLegId else { break }
                var consult = leg(related, kind: "consult")
                consult.endedAt = consult.endedAt ?? at
                consult.state = "ended"
                closeOpen(&consult.holds, at: at)
                store(consult)
            case .legEnded, .screenWorkStopped:
                var value = leg(legId, kind: event.type == .screenWorkStopped ? "screen" : "call")
                if value.endedAt != nil {
                    note("\(event.type.rawValue) \(event.eventId): leg \(legId) had ended already")
                    break
                }
                value.endedAt = at
                value.state = "ended"
                value.agent = value.agent ?? event.agentId
                value.workstation = value.workstation ?? item.workstation
                closeOpen(&value.holds, at: at)
                closeOpen(&value.pauses, at: at)
                store(value)
            case .afterCallWorkEnded:
                var value = leg(legId)
                value.afterCallWorkEndedAt = value.afterCallWorkEndedAt ?? at
                store(value)
            case .recordingPaused, .recordingResumed:
                // A pause names its leg, or else holds for every leg of the interaction active then.
                let targets = event.legId.map { [$0] } ?? order.filter { legs[$0]?.endedAt == nil }
                for id in targets {
                    var value = leg(id)
                    if event.type == .recordingPaused {
                        if !value.pauses.contains(where: { $0.to == nil }) {
                            value.pauses.append(.init(from: at, to: nil, reason: event.reason))
                        }
                    } else {
                        closeOpen(&value.pauses, at: at)
                    }
                    store(value)
                }
            }
        }
        for id in order {
            guard let value = legs[id] else { continue }
            if value.startedAt == nil { note("leg \(id): no start has arrived") }
            record.legs.append(value)
        }
        let starts = record.legs.compactMap(\.startedAt)
        let ends = record.legs.compactMap(\.endedAt)
        record.startedAt = starts.min()
        let ended = !record.legs.isEmpty && record.legs.allSatisfy { $0.endedAt != nil }
        record.state = ended ? "ended" : "active"
        record.endedAt = ended ? ends.max() : nil
        return record
    }
}
