/// Text that came from outside (user names, host names, call ids, heartbeat errors, paths) made safe
/// to store, print or log: control characters (C0, DEL, C1), invisible format characters (bidirectional
/// overrides and isolates, zero-width spaces and joiners, the byte-order mark, tag characters, every
/// default-ignorable code point) and
/// line/paragraph separators become visible `\u{…}` escapes, so nothing can move the cursor, retitle
/// a terminal, forge a log line, reorder what an admin reads or make two different names look the
/// same; and it is cut to a bounded length.
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

    /// `printable`, then at most `limit` Unicode scalars (an ellipsis and the original size say it was
    /// cut). Scalars, not `Character`s: one letter followed by a million combining marks is a single
    /// Character, and counting those let a 2 MB user name through.
    public static func bounded(_ text: String, limit: Int = 256) -> String {
        let scalars = text.unicodeScalars
        let head = String(String.UnicodeScalarView(scalars.prefix(limit * 8)))
        let safe = printable(head).unicodeScalars
        guard safe.count > limit || scalars.count > limit * 8 else { return String(safe) }
        return String(String.UnicodeScalarView(safe.prefix(limit))) + "…(\(text.utf8.count) bytes)"
    }

    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        // Default-ignorable code points render as nothing (Hangul fillers, variation selectors, the
        // combining grapheme joiner): "agent-7\u{3164}" would show as a second "agent-7".
        if scalar.properties.isDefaultIgnorableCodePoint { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: return true
        default: return false
        }
    }
}
