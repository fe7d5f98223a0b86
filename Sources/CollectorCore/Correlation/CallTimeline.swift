import Foundation

/// One call as QA plays it (`GET /api/v1/calls/{interactionId}/timeline`, contract version 1,
/// `docs/TIMELINE.md`): every leg, participant, voice recording and screen segment on one clock (the
/// collector's), as offsets in ms from the call's start, with how each recording was matched and how
/// far its offset may be off.
public struct CallTimeline: Codable, Sendable, Equatable {
    public var version = 1
    public var interactionId: String
    public var integration: String
    /// The calls the view is made of, in time order: the one asked for, or every call a softphone
    /// transfer left (`docs/TIMELINE.md`, "Transfers between softphones"), each with how it joined the
    /// one before it.
    public var calls: [Call]
    /// Always `collector`: workstation times are corrected by their measured clock offset.
    public var clock = "collector"
    public var startedAt: String
    public var endedAt: String?
    public var durationMs: Int64
    public var legs: [Leg]
    public var participants: [Participant]
    public var voice: [Voice]
    public var screen: [Screen]
    public var bands: [Band]
    public var sync: SyncHealth
    /// Recordings catalogued for the call but not placed on its clock: a voice hours away from the
    /// call's own times (a phone system's wrong clock). Listed, never dropped silently.
    public var setAside: [SetAside] = []

    public struct SetAside: Codable, Sendable, Equatable {
        public var kind: String
        public var id: String
        public var reason: String
    }

    public struct Call: Codable, Sendable, Equatable {
        public var integration: String
        public var interactionId: String
        public var match: Match

        enum CodingKeys: String, CodingKey {
            case integration, match
            case interactionId = "interaction_id"
        }
    }

    public struct Leg: Codable, Sendable, Equatable {
        public var legId: String
        /// The call of `calls` the leg is part of.
        public var interactionId: String
        public var kind: String
        public var agent: String?
        public var workstation: String?
        public var fromMs: Int64
        public var toMs: Int64?
        public var previousLegId: String?

        enum CodingKeys: String, CodingKey {
            case kind, agent, workstation
            case legId = "leg_id"
            case interactionId = "interaction_id"
            case fromMs = "from_ms"
            case toMs = "to_ms"
            case previousLegId = "previous_leg_id"
        }
    }

    /// A person on the call: their phone-system identity and the workstation they were at.
    public struct Participant: Codable, Sendable, Equatable {
        public var agent: String?
        public var workstation: String?
        public var legs: [String]
    }

    public struct Match: Codable, Sendable, Equatable {
        /// `interaction` (the ids the events gave), `sip-call-id`, or `agent-time` (the agent and an
        /// overlap in time); for a call of `calls`, `self` (the first) or `transfer-time` (it began at
        /// another workstation, with the same remote party, just after the call before it ended by a
        /// transfer).
        public var method: String
        /// 1 for ids; for a match by time, the share of the recording inside the leg; for a transfer,
        /// from 1 (within a second) down to 0.5 (a minute later).
        public var confidence: Double
    }

    public struct Voice: Codable, Sendable, Equatable {
        public var id: String
        public var legId: String
        public var offsetMs: Int64
        public var durationMs: Int64
        public var codec: String
        public var sampleRate: Int
        /// Who each channel is, left to right.
        public var channels: [String]
        public var match: Match
        public var uncertaintyMs: Int64

        enum CodingKeys: String, CodingKey {
            case id, codec, channels, match
            case legId = "leg_id"
            case offsetMs = "offset_ms"
            case durationMs = "duration_ms"
            case sampleRate = "sample_rate"
            case uncertaintyMs = "uncertainty_ms"
        }
    }

    public struct Screen: Codable, Sendable, Equatable {
        public var agentId: String
        /// What was captured: the RandR monitor's name, or `screen` for the whole screen.
        public var monitor: String
        public var sequence: Int
        public var offsetMs: Int64
        public var durationMs: Int64
        public var width: Int
        public var height: Int
        public var legs: [String]
        public var match: Match
        /// Subtracted from the workstation's times (its clock minus ours); nil when never measured.
        public var clockCorrectionMs: Int64?
        public var uncertaintyMs: Int64?

        enum CodingKeys: String, CodingKey {
            case monitor, sequence, width, height, legs, match
            case agentId = "agent_id"
            case offsetMs = "offset_ms"
            case durationMs = "duration_ms"
            case clockCorrectionMs = "clock_correction_ms"
            case uncertaintyMs = "uncertainty_ms"
        }
    }

    /// A stretch to show under the player: `hold`, `transfer`, `conference`, `consult`, `pause`, or
    /// `no_screen` (a leg at a workstation without screen). Transfers and conferences are instants
    /// (`from_ms` = `to_ms`).
    public struct Band: Codable, Sendable, Equatable {
        public var kind: String
        public var legId: String?
        public var fromMs: Int64
        public var toMs: Int64?
        public var detail: String?

        enum CodingKeys: String, CodingKey {
            case kind, detail
            case legId = "leg_id"
            case fromMs = "from_ms"
            case toMs = "to_ms"
        }
    }

    /// The largest uncertainty of any offset above (nil when a workstation's clock was never measured:
    /// `unmeasured` names them), against what lip-sync tolerates.
    public struct SyncHealth: Codable, Sendable, Equatable {
        public var maxUncertaintyMs: Int64?
        public var unmeasured: [String]
        public var limitMs: Int64 = 40
        public var withinLimit: Bool

        enum CodingKeys: String, CodingKey {
            case unmeasured
            case maxUncertaintyMs = "max_uncertainty_ms"
            case limitMs = "limit_ms"
            case withinLimit = "within_limit"
        }
    }

    enum CodingKeys: String, CodingKey {
        case version, integration, calls, clock, legs, participants, voice, screen, bands, sync
        case setAside = "set_aside"
        case interactionId = "interaction_id"
        case startedAt = "started_at"
        case endedAt = "ended_at"
        case durationMs = "duration_ms"
    }
}
