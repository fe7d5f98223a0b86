import Foundation

/// What the agent is doing, as its heartbeat says.
public enum AgentState: String, Codable, Sendable, CaseIterable {
    case idle, recording, paused, stopping

    public init(from decoder: any Decoder) throws { self = try StrictJSON.oneOf(decoder) }
}

/// The heartbeat an agent sends its collector (`POST /api/v1/agent/heartbeat`, contract version 1):
/// one type for both programs, so the agent writes exactly what the collector reads.
public struct AgentHeartbeat: Codable, Sendable, Equatable {
    public var agentVersion = ProductVersion.current
    /// This workstation's wall clock when sending, RFC 3339 with milliseconds.
    public var sentAt: String
    /// The previous heartbeat's round trip, so the collector can take half of it off the offset.
    public var roundTripMs: Int?
    public var state: AgentState
    /// Sealed segments waiting in the spool.
    public var spoolSegments: Int
    /// Every byte the spool holds: the number its limits (`spool_max_mb`) are enforced against.
    public var spoolBytes: Int
    public var lastError: String?
    public var lastErrorAt: String?

    public init(
        sentAt: Date = Date(), roundTripMs: Int?, state: AgentState, spoolSegments: Int, spoolBytes: Int,
        lastError: String?, lastErrorAt: String?
    ) {
        self.sentAt = AgentHeartbeat.timestamp(sentAt)
        self.roundTripMs = roundTripMs
        self.state = state
        self.spoolSegments = spoolSegments
        self.spoolBytes = spoolBytes
        self.lastError = lastError
        self.lastErrorAt = lastErrorAt
    }

    public static func timestamp(_ date: Date) -> String {
        SegmentManifest.timestamp(unixNanos: Int64((date.timeIntervalSince1970 * 1000).rounded()) * 1_000_000)
    }

    enum CodingKeys: String, CodingKey {
        case state
        case agentVersion = "agent_version"
        case sentAt = "sent_at"
        case roundTripMs = "round_trip_ms"
        case spoolSegments = "spool_segments"
        case spoolBytes = "spool_bytes"
        case lastError = "last_error"
        case lastErrorAt = "last_error_at"
    }
}

/// The collector's answer to a heartbeat.
public struct HeartbeatAnswer: Codable, Sendable, Equatable {
    /// The collector's clock when the heartbeat arrived.
    public var receivedAt: String
    /// Agent clock minus collector clock, corrected by half the previous round trip.
    public var clockOffsetMs: Int

    public init(receivedAt: String, clockOffsetMs: Int) {
        self.receivedAt = receivedAt
        self.clockOffsetMs = clockOffsetMs
    }

    enum CodingKeys: String, CodingKey {
        case receivedAt = "received_at"
        case clockOffsetMs = "clock_offset_ms"
    }
}
