import Foundation

/// The one strict reader of every JSON document that crosses the wire or the disk (agent and collector
/// configuration, enrolment, heartbeats, admin request bodies). A key the type does not read is an
/// error naming it and the keys that are known, so a misspelt setting is never silently ignored; a
/// value of the wrong kind names the key, what it must be and what was found. Types stay plain
/// `Decodable` (synthesized or hand-written): whatever keys their decoding asks for are the known ones.
public enum StrictJSON {
    /// What is wrong and where: `storage.parallel_uploads must be a whole number, found 1.5`,
    /// `unknown key "recording.fsp"; known keys here: …`, `signing_key is required`.
    public struct Invalid: Error, CustomStringConvertible, Equatable, Sendable {
        /// Dotted key path (`storage.parallel_uploads`, `items[2].name`); empty for the document itself.
        public let path: String
        public let message: String
        public var description: String { message }

        public init(path: String, message: String) {
            self.path = path
            self.message = message
        }
    }

    /// At most this many bytes are parsed: contract documents are small.
    public static let maxDocumentBytes = 1 << 20

    /// What to do with keys the type does not read. Documents people write (configuration files,
    /// admin requests) and everything the collector receives refuse them. What an agent receives
    /// from its collector ignores them: collectors are upgraded before a fleet of agents, and a newer
    /// collector may add optional keys to a version 1 document.
    public enum UnknownKeys: Sendable {
        case refuse, ignore
    }

    /// The parsed tree of an outside document with the same checks as `decode` (size, key count,
    /// duplicate keys), for payloads no contract type describes: phone systems' own events.
    public static func tree(_ data: Data) throws(Invalid) -> JSONValue {
        guard data.count <= maxDocumentBytes else {
            throw Invalid(path: "", message: "the document is larger than \(maxDocumentBytes) bytes")
        }
        let finding = DuplicateKeys.first(in: data)
        if finding == .tooManyKeys {
            throw Invalid(path: "", message: "an object holds more than \(DuplicateKeys.maxKeysPerObject) keys")
        }
        let tree: JSONValue
        do {
            tree = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw Invalid(path: "", message: "not valid JSON")
        }
        if case .duplicate(let key) = finding {
            throw Invalid(
                path: key, message: "the key \"\(OutsideText.bounded(key, limit: 64))\" is given twice in one object")
        }
        return tree
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, unknownKeys: UnknownKeys = .refuse)
        throws(Invalid) -> T
    {
        let tree = try tree(data)
        let reads = KeyReads()
        let value: T
        do {
            value = try T(from: TreeDecoder(value: tree, codingPath: [], reads: reads))
        } catch let invalid as Invalid {
            throw invalid
        } catch let error as DecodingError {
            throw Invalid(decoding: error)
        } catch {
            throw Invalid(path: "", message: "\(error)")
        }
        if unknownKeys == .refuse, let unknown = reads.firstUnknown() {
            throw Invalid(
                path: unknown.path,
                message:
                    "unknown key \"\(unknown.path)\"; known keys here: \(unknown.known.sorted().joined(separator: ", "))")
        }
        return value
    }

    /// The canonical encoding of a contract document: sorted keys, no escaped slashes (golden files
    /// and signatures compare bytes).
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if pretty { encoder.outputFormatting.insert(.prettyPrinted) }
        return try encoder.encode(value)
    }

    /// One of an enumeration's names, or an error listing them: for an enum's `init(from:)`.
    public static func oneOf<T: RawRepresentable & CaseIterable>(_ decoder: any Decoder) throws -> T
    where T.RawValue == String {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = T(rawValue: text) else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription:
                        "must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), found \"\(OutsideText.bounded(text, limit: 40))\""
                ))
        }
        return value
    }

    static func path(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text
    }
}

extension StrictJSON.Invalid {
    /// Decoding errors carry "must be …" / "is required" / a validation's own words; the path goes first.
    init(decoding error: DecodingError) {
        switch error {
        case .keyNotFound(let key, let context):
            let path = StrictJSON.path(context.codingPath + [key])
            self.init(path: path, message: "\(path) is required")
        case .valueNotFound(_, let context), .typeMismatch(_, let context), .dataCorrupted(let context):
            let path = StrictJSON.path(context.codingPath)
            self.init(
                path: path, message: "\(path.isEmpty ? "the top level" : path) \(context.debugDescription)")
        @unknown default:
            self.init(path: "", message: "\(error)")
        }
    }
}

/// Which keys each object of the document has, and which of them decoding asked for.
final class KeyReads {
    private struct Object {
        var path: [any CodingKey]
        var keys: Set<String>
        var read: Set<String> = []
    }
    private var objects: [Object] = []

    func register(_ path: [any CodingKey], keys: some Sequence<String>) -> Int {
        objects.append(Object(path: path, keys: Set(keys)))
        return objects.count - 1
    }

    func read(_ key: String, in object: Int) { objects[object].read.insert(key) }

    func readAll(in object: Int) { objects[object].read = objects[object].keys }

    /// The first key, in document order of objects and then by name, that nothing asked for.
    func firstUnknown() -> (path: String, known: Set<String>)? {
        for object in objects {
            if let key = object.keys.subtracting(object.read).sorted().first {
                return (StrictJSON.path(object.path + [ContractKey(key)]), object.read)
            }
        }
        return nil
    }
}

struct ContractKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        stringValue = "\(intValue)"
        self.intValue = intValue
    }
}

extension KeyedDecodingContainer {
    /// A document's `version`: `supported`, or absent when not `required` (it then means `supported`);
    /// any other number is refused, naming the one this build reads.
    public func contractVersion(_ key: Key, supported: Int = 1, required: Bool) throws -> Int {
        let found = required ? try decode(Int.self, forKey: key) : try decodeIfPresent(Int.self, forKey: key)
        guard let version = found else { return supported }
        guard version == supported else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self, debugDescription: "\(version) is not supported; this build reads \(supported)")
        }
        return version
    }
}
