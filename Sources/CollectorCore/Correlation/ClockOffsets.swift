import Foundation
import SQLKit

/// How far a workstation's clock is from the collector's, over time (from its heartbeats). Screen
/// segments, a softphone's events and its file names carry the workstation's time; the timeline puts
/// them on the collector's clock with the offset measured around them.
public struct ClockOffsets: Sendable {
    let catalog: Catalog

    public init(catalog: Catalog) {
        self.catalog = catalog
    }

    /// One measurement: agent clock minus collector clock, and how far off that figure may be (half the
    /// round trip it was measured over).
    public struct Measurement: Codable, Sendable, Equatable {
        public var measuredAt: Date
        public var offsetMs: Int64
        public var uncertaintyMs: Int64
    }

    /// The correction at one instant: subtract `offsetMs` from the workstation's time.
    public struct Correction: Codable, Sendable, Equatable {
        public var offsetMs: Int64
        public var uncertaintyMs: Int64

        /// `date`, read on the workstation's clock, on the collector's.
        public func collectorTime(of date: Date) -> Date {
            date.addingTimeInterval(-Double(offsetMs) / 1000)
        }

        enum CodingKeys: String, CodingKey {
            case offsetMs = "offset_ms"
            case uncertaintyMs = "uncertainty_ms"
        }
    }

    /// A free-running quartz clock drifts by up to about 50 ppm; twice that bounds how far a measurement
    /// may have aged by the time of the segment it corrects.
    static let driftPerSecondMs = 0.1

    /// Keeps a measurement when the offset moved by more than `keepStep` ms, its uncertainty halved, or
    /// an hour passed since the last kept one: a steady clock costs a row an hour, a drifting one is
    /// followed.
    static let keepStep: Int64 = 20

    func record(agentId: String, offsetMs: Int64, uncertaintyMs: Int64, at time: Date, in database: any SQLDatabase)
        async throws
    {
        let last = try await database.raw(
            """
            SELECT measured_at, offset_ms, uncertainty_ms FROM agent_clock_offsets WHERE agent_id = \(bind: agentId)
            ORDER BY measured_at DESC LIMIT 1
            """
        ).first()
        if let last {
            let at = Timestamp.date(try last.decode(column: "measured_at", as: String.self)) ?? .distantPast
            let offset = try last.decode(column: "offset_ms", as: Int64.self)
            let uncertainty = try last.decode(column: "uncertainty_ms", as: Int64.self)
            // A move counts only beyond what the two measurements' own uncertainties explain: a noisy
            // measurement must not replace a precise one just for being different.
            let moved = abs(offset - offsetMs) > max(Self.keepStep, uncertaintyMs + uncertainty)
            let sharper = uncertaintyMs * 2 < uncertainty
            guard moved || sharper || time.timeIntervalSince(at) >= 3600 else { return }
        }
        try await database.raw(
            """
            INSERT INTO agent_clock_offsets (agent_id, measured_at, offset_ms, uncertainty_ms)
            VALUES (\(bind: agentId), \(bind: Timestamp.string(time)), \(bind: offsetMs), \(bind: uncertaintyMs))
            ON CONFLICT (agent_id, measured_at) DO NOTHING
            """
        ).run()
    }

    /// The measurements of `agentId` from a day before `from` to a day after `to`, oldest first.
    public func history(agentId: String, from: Date, to: Date) async throws -> [Measurement] {
        try await catalog.sql.raw(
            """
            SELECT measured_at, offset_ms, uncertainty_ms FROM agent_clock_offsets WHERE agent_id = \(bind: agentId)
            AND measured_at >= \(bind: Timestamp.string(from.addingTimeInterval(-86400)))
            AND measured_at <= \(bind: Timestamp.string(to.addingTimeInterval(86400)))
            ORDER BY measured_at LIMIT 10000
            """
        ).all().map { row in
            Measurement(
                measuredAt: Timestamp.date(try row.decode(column: "measured_at", as: String.self)) ?? .distantPast,
                offsetMs: try row.decode(column: "offset_ms", as: Int64.self),
                uncertaintyMs: try row.decode(column: "uncertainty_ms", as: Int64.self))
        }
    }

    /// The correction for `time` read on the workstation's own clock: measurements are stamped with
    /// the collector's, so the one around it is looked up at `time` less the offset.
    public static func correction(atWorkstationTime time: Date, history: [Measurement]) -> Correction? {
        guard let rough = correction(at: time, history: history) else { return nil }
        return correction(at: time.addingTimeInterval(-Double(rough.offsetMs) / 1000), history: history)
    }

    /// The correction at `time` (the collector's clock) from `history` (oldest first): between two measurements the offset is
    /// interpolated, outside them the nearest one holds and its uncertainty grows with the time since.
    /// Nil without any measurement.
    public static func correction(at time: Date, history: [Measurement]) -> Correction? {
        guard let first = history.first, let last = history.last else { return nil }
        func aged(_ measurement: Measurement) -> Correction {
            let seconds = abs(time.timeIntervalSince(measurement.measuredAt))
            return Correction(
                offsetMs: measurement.offsetMs,
                uncertaintyMs: measurement.uncertaintyMs + Int64((seconds * driftPerSecondMs).rounded(.up)))
        }
        if time <= first.measuredAt { return aged(first) }
        if time >= last.measuredAt { return aged(last) }
        let after = history.firstIndex { $0.measuredAt >= time }!
        let (a, b) = (history[after - 1], history[after])
        let span = b.measuredAt.timeIntervalSince(a.measuredAt)
        let share = span > 0 ? time.timeIntervalSince(a.measuredAt) / span : 0
        let offset = Double(a.offsetMs) + Double(b.offsetMs - a.offsetMs) * share
        // Between two kept rows the offset may have wandered by up to `keepStep` without a row of its own.
        return Correction(
            offsetMs: Int64(offset.rounded()), uncertaintyMs: max(a.uncertaintyMs, b.uncertaintyMs) + Self.keepStep)
    }
}
