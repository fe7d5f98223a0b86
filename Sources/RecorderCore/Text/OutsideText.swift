/// Text that came from outside (user names, host names, call ids, heartbeat errors, paths) made safe
/// to store, print or log: control characters (C0, DEL, C1), bidirectional overrides and isolates, and
/// line/paragraph separators become visible `\u{…}` escapes, so nothing can move the cursor, retitle
/// a terminal, forge a log line or reorder what an admin reads; and it is cut to a bounded length.
public enum OutsideText {
    public static func printable(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if isUnsafe(scalar) {
                result += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// `printable`, then at most `limit` characters (an ellipsis and the original length say it was cut).
    public static func bounded(_ text: String, limit: Int = 256) -> String {
        let safe = printable(text.count > limit * 8 ? String(text.prefix(limit * 8)) : text)
        guard safe.count > limit else { return safe }
        return String(safe.prefix(limit)) + "…(\(text.utf8.count) bytes)"
    }

    static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0x061C: true  // bidi marks, overrides, isolates
        case 0x2028, 0x2029: true  // line and paragraph separators
        default: false
        }
    }
}
