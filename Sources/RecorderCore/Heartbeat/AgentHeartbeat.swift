import Foundation

/// The heartbeat an agent sends its collector (`POST /api/v1/agent/heartbeat`, contract version 1):
/// one type for both programs, so the agent writes exactly what the collector reads.
public struct AgentHeartbeat: Codable, Sendable, Equatable {
    public var agentVersion = ProductVersion.current
    /// This workstation's wall clock when sending, RFC 3339 with milliseconds.
    public var sentAt: String
    /// The previous heartbeat's round trip, so the collector can take half of it off the offset.
    public var roundTripMs: Int?
    /// idle, recording, paused or stopping.
    public var state: String
    public var spoolSegments: Int
    public var spoolBytes: Int
    public var lastError: String?
    public var lastErrorAt: String?

    public init(
        sentAt: Date = Date(), roundTripMs: Int?, state: String, spoolSegments: Int, spoolBytes: Int,
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
