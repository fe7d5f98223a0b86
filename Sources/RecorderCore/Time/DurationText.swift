import Foundation

/// Parses and prints human durations such as `20s`, `1m30s`, `500ms`, `2h` (the CLI and config syntax).
public enum DurationText {
    public struct InvalidDuration: Error, CustomStringConvertible, Sendable {
        public let text: String
        public var description: String {
            "invalid duration \"\(text)\": use a number with a unit, e.g. 500ms, 20s, 10m, 1h or 1m30s"
        }
    }

    /// Returns the duration in seconds.
    public static func parseSeconds(_ text: String) throws -> Double {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw InvalidDuration(text: text) }
        var total = 0.0
        var number = ""
        var unit = ""
        var sawPart = false
        func flush() throws {
            guard let value = Double(number), value.isFinite, value >= 0 else { throw InvalidDuration(text: text) }
            let scale: Double
            switch unit {
            case "ms": scale = 0.001
            case "s": scale = 1
            case "m", "min": scale = 60
            case "h": scale = 3600
            default: throw InvalidDuration(text: text)
            }
            total += value * scale
            number = ""
            unit = ""
            sawPart = true
        }
        for character in trimmed {
            if character.isNumber || character == "." {
                if !unit.isEmpty { try flush() }
                number.append(character)
            } else if character.isLetter {
                guard !number.isEmpty else { throw InvalidDuration(text: text) }
                unit.append(character)
            } else {
                throw InvalidDuration(text: text)
            }
        }
        if !number.isEmpty || !unit.isEmpty { try flush() }
        guard sawPart else { throw InvalidDuration(text: text) }
        return total
    }
}
