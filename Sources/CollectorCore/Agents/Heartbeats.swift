import Foundation
import RecorderCore
import SQLKit

/// What an agent reports about itself every minute, and what the collector makes of it: the agent's
/// clock offset (segment times come from the workstation's clock, so QA must know how far off it is)
/// and a health verdict for the admin's agent list.
public struct AgentHealth: Codable, Sendable, Equatable {
    /// Collector time of the last heartbeat.
    public var reportedAt: String
    public var agentVersion: String
    /// idle, recording, paused, stopping.
    public var state: String
    public var spoolSegments: Int
    public var spoolBytes: Int
    public var lastError: String?
    public var lastErrorAt: String?
    /// Agent clock minus collector clock, corrected by half the agent's measured round trip.
    public var clockOffsetMs: Int
    public var roundTripMs: Int?
    /// ok, silent, failing, clock_skew (set when listed, from the fields above and the current time).
    public var verdict: String?

    enum CodingKeys: String, CodingKey {
        case state, verdict
        case reportedAt = "reported_at"
        case agentVersion = "agent_version"
        case spoolSegments = "spool_segments"
        case spoolBytes = "spool_bytes"
        case lastError = "last_error"
        case lastErrorAt = "last_error_at"
        case clockOffsetMs = "clock_offset_ms"
        case roundTripMs = "round_trip_ms"
    }

    /// No heartbeat for this long: the agent (or its workstation, or the network) is down.
    public static let silentAfterSeconds: Double = 300
    /// Segment times drift from the voice recording's by the offset; beyond this QA would notice.
    public static let skewLimitMs = 2000

    func judged(now: Date) -> AgentHealth {
        var health = self
        let age = Timestamp.date(reportedAt).map { now.timeIntervalSince($0) } ?? .infinity
        health.verdict =
            if age > AgentHealth.silentAfterSeconds {
                "silent"
            } else if lastError != nil && spoolSegments > 0 {
                "failing"
            } else if abs(clockOffsetMs) > AgentHealth.skewLimitMs {
                "clock_skew"
            } else {
                "ok"
            }
        return health
    }
}

public struct Heartbeats: Sendable {
    let catalog: Catalog

    /// Stores the report with the measured clock offset and returns that offset (ms).
    public func record(_ report: AgentHeartbeat, agentId: String, receivedAt: Date = Date()) async throws -> Int {
        guard let sent = Timestamp.date(report.sentAt) else {
            throw CollectorError(.invalid, "sent_at \"\(report.sentAt)\" is not an RFC 3339 time with milliseconds")
        }
        guard report.spoolSegments >= 0, report.spoolBytes >= 0, (report.roundTripMs ?? 0) >= 0 else {
            throw CollectorError(.invalid, "spool_segments, spool_bytes and round_trip_ms cannot be negative")
        }
        // The request left the agent at `sent` (its clock) and took about half a round trip to arrive.
        let oneWay = Double(report.roundTripMs ?? 0) / 2000
        let offset = Int(((sent.timeIntervalSince1970 + oneWay) - receivedAt.timeIntervalSince1970) * 1000)
        let now = Timestamp.string(receivedAt)
        let version = String(report.agentVersion.prefix(64))
        let lastError = report.lastError.map { String($0.prefix(2000)) }
        try await catalog.transaction { database in
            try await database.raw("DELETE FROM agent_health WHERE agent_id = \(bind: agentId)").run()
            try await database.raw(
                """
                INSERT INTO agent_health (agent_id, reported_at, agent_version, state, spool_segments, spool_bytes,
                    last_error, last_error_at, clock_offset_ms, round_trip_ms)
                VALUES (\(bind: agentId), \(bind: now), \(bind: version), \(bind: report.state.rawValue),
                    \(bind: report.spoolSegments), \(bind: report.spoolBytes), \(bind: lastError),
                    \(bind: report.lastErrorAt), \(bind: offset), \(bind: report.roundTripMs))
                """
            ).run()
            try await database.raw("UPDATE agents SET last_seen_at = \(bind: now) WHERE id = \(bind: agentId)").run()
            // Half the round trip bounds the error; the first heartbeat knows no round trip yet.
            try await ClockOffsets(catalog: catalog).record(
                agentId: agentId, offsetMs: Int64(offset), uncertaintyMs: Int64((report.roundTripMs ?? 2000) / 2 + 1),
                at: receivedAt, in: database)
        }
        return offset
    }

    /// The last report of every agent that sent one, judged against `now`.
    public func all(now: Date = Date()) async throws -> [String: AgentHealth] {
        var health: [String: AgentHealth] = [:]
        for row in try await catalog.sql.raw("SELECT * FROM agent_health").all() {
            let entry = AgentHealth(
                reportedAt: try row.decode(column: "reported_at", as: String.self),
                agentVersion: try row.decode(column: "agent_version", as: String.self),
                state: try row.decode(column: "state", as: String.self),
                spoolSegments: try row.decode(column: "spool_segments", as: Int.self),
                spoolBytes: try row.decode(column: "spool_bytes", as: Int.self),
                lastError: try row.decode(column: "last_error", as: String?.self),
                lastErrorAt: try row.decode(column: "last_error_at", as: String?.self),
                clockOffsetMs: try row.decode(column: "clock_offset_ms", as: Int.self),
                roundTripMs: try row.decode(column: "round_trip_ms", as: Int?.self))
            health[try row.decode(column: "agent_id", as: String.self)] = entry.judged(now: now)
        }
        return health
    }
}
