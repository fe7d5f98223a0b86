/// A JSON document as parsed, before it is mapped to a contract type: whole numbers kept apart from
/// fractional ones and from booleans, so `1.5` never becomes a count and `true` never a number.
public enum JSONValue: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null
        } else if let bool = try? single.decode(Bool.self) {
            self = .bool(bool)
        } else if let integer = try? single.decode(Int64.self) {
            self = .integer(integer)
        } else if let number = try? single.decode(Double.self) {
            self = .number(number)
        } else if let string = try? single.decode(String.self) {
            self = .string(string)
        } else if let array = try? single.decode([JSONValue].self) {
            self = .array(array)
        } else {
            self = .object(try single.decode([String: JSONValue].self))
        }
    }

    /// How an error message names what was found.
    var summary: String {
        switch self {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .integer(let value): "\(value)"
        case .number(let value): "\(value)"
        case .string(let value): "\"\(OutsideText.bounded(value, limit: 40))\""
        case .array: "a list"
        case .object: "an object"
        }
    }
}

/// Reading phone systems' own payloads (`CollectorCore/Calls/Adapters`), whose key spelling varies
/// between their own samples (`agentInfo` and `AgentInfo`).
extension JSONValue {
    /// The member named `key`, compared without regard to case; nil for anything but an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        if let exact = members[key] { return exact }
        let lowered = key.lowercased()
        return members.first { $0.key.lowercased() == lowered }?.value
    }

    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var array: [JSONValue] {
        if case .array(let values) = self { return values }
        return []
    }

    public var members: [String: JSONValue] {
        if case .object(let members) = self { return members }
        return [:]
    }
}
