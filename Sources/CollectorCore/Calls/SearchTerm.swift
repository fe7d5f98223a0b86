import RecorderCore
import SQLKit

/// One field of a call search, as a person types it (`docs/WEB.md`, "Searching"):
///
/// * text fields (ANI, DNIS, queue, direction): `+3314`, a list `billing,sales`, a prefix `+33*`,
///   and `!` before any of them for "none of these" (`!outbound`);
/// * numbers (duration in seconds): `45`, `>60`, `<30`, `>=60`, `<=30`, a range `30..120`, and `!`.
///
/// Each becomes a SQL condition with bound values only. Prefixes are compared with `substr`, not LIKE:
/// LIKE treats `_` and `%` as wildcards and is case-blind on SQLite but not on PostgreSQL.
enum SearchTerm {
    static let maxItems = 20

    static func text(_ given: String, column: String, field: String) throws -> SQLQueryString {
        let (negated, any) = try textParts(given, column: column, field: field)
        return negated ? "(\(unsafeRaw: column) IS NULL OR NOT " + any + ")" : any
    }

    /// A text term as whether it was negated and the condition that any of its values matches, for
    /// a caller that puts the condition inside a subquery (a call's categories).
    static func textParts(_ given: String, column: String, field: String) throws -> (negated: Bool, any: SQLQueryString) {
        let (negated, body) = split(given)
        let items = body.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard !items.isEmpty, items.count <= maxItems, items.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 200 }) else {
            throw CollectorError(
                .invalid,
                "\(field): give a value, a list (a,b), a prefix (+33*) or ! before them for none of these; at most \(maxItems) values of 200 bytes")
        }
        let each: [SQLQueryString] = items.map { item in
            if item.hasSuffix("*") {
                let prefix = String(item.dropLast())
                return "substr(\(unsafeRaw: column), 1, CAST(\(bind: prefix.utf8.count) AS INTEGER)) = \(bind: prefix)"
            }
            return "\(unsafeRaw: column) = \(bind: item)"
        }
        return (negated, "(" + each.joined(separator: " OR ") + ")")
    }

    static func number(
        _ given: String, column: String, field: String, scale: Int64, unit: String = "a number of seconds (45)",
        largest: Int64 = 9_999_999
    ) throws -> SQLQueryString {
        let (negated, body) = split(given)
        let invalid = CollectorError(
            .invalid, "\(field): give \(unit), a bound (>60, <30, >=60, <=30) or a range (30..120), ! before for not")
        func seconds(_ text: Substring) throws -> Int64 {
            guard let value = Int64(text.trimmingCharacters(in: .whitespaces)), value >= 0, value <= largest else { throw invalid }
            return value * scale
        }
        let condition: SQLQueryString
        if let range = body.range(of: "..") {
            let low = try seconds(body[..<range.lowerBound])
            let high = try seconds(body[range.upperBound...])
            guard low <= high else { throw invalid }
            condition = "(\(unsafeRaw: column) >= \(bind: low) AND \(unsafeRaw: column) <= \(bind: high + scale - 1))"
        } else {
            for (symbol, operation) in [(">=", ">="), ("<=", "<="), (">", ">"), ("<", "<")] where body.hasPrefix(symbol) {
                let value = try seconds(body.dropFirst(symbol.count))
                // "> 60 s" is past the 60th second; "<= 30 s" includes all of the 30th.
                let bound: Int64 =
                    switch operation {
                    case ">": value + scale - 1
                    case "<=": value + scale - 1
                    default: value
                    }
                let sql: SQLQueryString = "\(unsafeRaw: column) \(unsafeRaw: operation) \(bind: bound)"
                return negated ? "(\(unsafeRaw: column) IS NULL OR NOT " + sql + ")" : sql
            }
            let value = try seconds(Substring(body))
            condition = "(\(unsafeRaw: column) >= \(bind: value) AND \(unsafeRaw: column) <= \(bind: value + scale - 1))"
        }
        return negated ? "(\(unsafeRaw: column) IS NULL OR NOT " + condition + ")" : condition
    }

    private static func split(_ given: String) -> (negated: Bool, body: String) {
        let trimmed = given.trimmingCharacters(in: .whitespaces)
        return trimmed.hasPrefix("!") ? (true, String(trimmed.dropFirst())) : (false, trimmed)
    }
}
