/// Netstrings (`12:hello world!,`), how baresip's `ctrl_tcp` frames its JSON.
struct Netstring {
    /// Frames longer than this end the connection: baresip's messages are a few hundred bytes.
    static let maxLength = 64 * 1024

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    private var pending: [UInt8] = []

    static func frame(_ payload: [UInt8]) -> [UInt8] {
        Array("\(payload.count):".utf8) + payload + [UInt8(ascii: ",")]
    }

    /// Adds what was read; returns every frame now complete.
    mutating func feed(_ bytes: some Sequence<UInt8>) throws(Malformed) -> [[UInt8]] {
        pending.append(contentsOf: bytes)
        var frames: [[UInt8]] = []
        while true {
            guard let colon = pending.firstIndex(of: UInt8(ascii: ":")) else {
                guard pending.count <= 6, pending.allSatisfy({ (0x30...0x39).contains($0) }) else {
                    throw Malformed(description: "a netstring must start with its length and a colon")
                }
                break
            }
            let digits = pending[..<colon]
            guard !digits.isEmpty, digits.count <= 6, digits.allSatisfy({ (0x30...0x39).contains($0) }),
                let length = Int(String(decoding: digits, as: UTF8.self)), length <= Self.maxLength
            else {
                throw Malformed(description: "a netstring length must be 1 to 6 digits, at most \(Self.maxLength)")
            }
            let end = colon + 1 + length
            guard pending.count > end else { break }
            guard pending[end] == UInt8(ascii: ",") else {
                throw Malformed(description: "a netstring must end with a comma")
            }
            frames.append(Array(pending[(colon + 1)..<end]))
            pending.removeSubrange(...end)
        }
        return frames
    }
}
