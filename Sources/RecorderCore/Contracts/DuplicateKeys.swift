import Foundation

/// Finds an object key given twice in a JSON document. Parsers disagree on which of the two wins
/// (Foundation keeps the last, others the first), so a document that says `"type"` twice could mean
/// one thing to a proxy or an auditor and another to us: the strict decoder refuses it.
/// It also bounds the keys of one object: Foundation's decoder looks keys up one by one, so its time
/// grows with the square of an object's keys (33 000 keys in 256 KiB took 6 s), and a stranger's
/// login body could stall the collector. Linear and iterative (depth costs no stack), safe on any
/// bytes, so it runs before the parser.
enum DuplicateKeys {
    /// More keys than any contract document has (attributes are capped at 32).
    static let maxKeysPerObject = 1024

    enum Finding: Equatable {
        case duplicate(String)
        case tooManyKeys
    }

    static func first(in data: Data) -> Finding? {
        let bytes = [UInt8](data)
        var objects: [Set<String>?] = []  // nil: an array
        var expectingKey = false
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "{"):
                objects.append([])
                expectingKey = true
            case UInt8(ascii: "["):
                objects.append(nil)
                expectingKey = false
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                _ = objects.popLast()
                expectingKey = false
            case UInt8(ascii: ","):
                expectingKey = (objects.last ?? nil) != nil
            case UInt8(ascii: ":"):
                expectingKey = false
            case UInt8(ascii: "\""):
                var end = index + 1
                var escaped = false
                while end < bytes.count, bytes[end] != UInt8(ascii: "\"") || escaped {
                    escaped = !escaped && bytes[end] == UInt8(ascii: "\\")
                    end += 1
                }
                if expectingKey, var keys = objects.last ?? nil {
                    let raw = bytes[index...min(end, bytes.count - 1)]
                    // Escapes are resolved, so "\u0074ype" and "type" are the same key.
                    let key =
                        raw.contains(UInt8(ascii: "\\"))
                        ? (try? JSONDecoder().decode(String.self, from: Data(raw))) ?? "" : String(decoding: raw.dropFirst().dropLast(), as: UTF8.self)
                    if keys.contains(key) { return .duplicate(key) }
                    keys.insert(key)
                    if keys.count > maxKeysPerObject { return .tooManyKeys }
                    objects[objects.count - 1] = keys
                }
                expectingKey = false
                index = end
            default:
                break
            }
            index += 1
        }
        return nil
    }
}
