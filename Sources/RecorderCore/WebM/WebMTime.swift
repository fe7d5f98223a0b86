/// Matroska dates count nanoseconds from 2001-01-01T00:00:00 UTC; we keep Unix nanoseconds elsewhere.
public enum WebMTime {
    /// Seconds between 1970-01-01 and 2001-01-01.
    public static let matroskaEpochOffsetSeconds: Int64 = 978_307_200

    public static func matroskaDate(fromUnixNanos nanos: Int64) -> Int64 {
        nanos - matroskaEpochOffsetSeconds * 1_000_000_000
    }

    public static func unixNanos(fromMatroskaDate date: Int64) -> Int64 {
        date + matroskaEpochOffsetSeconds * 1_000_000_000
    }
}
