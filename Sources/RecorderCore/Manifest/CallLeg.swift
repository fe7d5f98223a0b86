/// One agent's part of a call: the interaction (the customer's call as a whole) and the leg within it
/// (`docs/CTI-EVENTS.md`). A segment names every leg it was recorded for, so a transfer or a consult
/// never files screen under the wrong call.
public struct CallLeg: Codable, Hashable, Sendable, Comparable {
    public var interactionId: String
    public var legId: String

    public init(interactionId: String, legId: String) {
        self.interactionId = interactionId
        self.legId = legId
    }

    public static func < (a: CallLeg, b: CallLeg) -> Bool {
        (a.interactionId, a.legId) < (b.interactionId, b.legId)
    }
}

/// A stretch of a segment during which one of its legs was on hold (recording goes on through hold:
/// the agent's screen while the customer waits is often what QA wants to see).
public struct HoldInterval: Codable, Sendable, Equatable {
    public var interactionId: String
    public var legId: String
    /// RFC 3339 UTC with milliseconds, within the segment.
    public var from: String
    public var to: String

    public init(leg: CallLeg, from: String, to: String) {
        interactionId = leg.interactionId
        legId = leg.legId
        self.from = from
        self.to = to
    }
}
