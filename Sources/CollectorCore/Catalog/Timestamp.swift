import Foundation
import RecorderCore

/// Catalog timestamps: UTC ISO 8601 with milliseconds, e.g. 2026-11-23T12:00:00.250Z. Fixed width, so
/// text order is time order in SQLite and PostgreSQL alike.
public enum Timestamp {
    public static func now() -> String { string(Date()) }

    /// Milliseconds truncated, like the agent's manifest times. Formatted by hand: Foundation's
    /// ISO 8601 style goes through ICU and was a visible share of the collector's CPU per event.
    public static func string(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(millis >= 0 ? millis / 1000 : (millis - 999) / 1000)
        let fraction = Int(millis - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(fraction), 3))Z"
    }

    /// An RFC 3339 time with its zone (`CallEvent.parseTime`: every field checked).
    public static func date(_ text: String) -> Date? {
        CallEvent.parseTime(text)
    }
}
