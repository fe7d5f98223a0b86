import Foundation

/// Catalog timestamps: UTC ISO 8601 with milliseconds, e.g. 2026-11-23T12:00:00.250Z. Fixed width, so
/// text order is time order in SQLite and PostgreSQL alike.
public enum Timestamp {
    public static func now() -> String { string(Date()) }

    public static func string(_ date: Date) -> String {
        date.formatted(
            Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC")!))
    }

    public static func date(_ text: String) -> Date? {
        try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
    }
}
