/// A strict reader for the EBML subset we write: walks elements, never trusts a size past the buffer.
public struct EBMLReader {
    public struct Element: Sendable {
        public let id: UInt32
        /// Offset of the element's first ID byte in the buffer.
        public let offset: Int
        /// Offset of the element's data (after ID and size).
        public let dataOffset: Int
        public let dataSize: Int
        public var end: Int { dataOffset + dataSize }
    }

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public let offset: Int
        public let reason: String
        public var description: String { "invalid EBML at byte \(offset): \(reason)" }
    }

    public let bytes: [UInt8]

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The elements directly inside `range`, in order.
    public func children(in range: Range<Int>) throws -> [Element] {
        var elements: [Element] = []
        var position = range.lowerBound
        while position < range.upperBound {
            let element = try element(at: position, limit: range.upperBound)
            elements.append(element)
            position = element.end
        }
        return elements
    }

    public func element(at offset: Int, limit: Int) throws -> Element {
        let (id, idLength) = try readVint(at: offset, limit: limit, keepMarker: true)
        guard idLength <= 4 else { throw ParseError(offset: offset, reason: "element ID longer than 4 bytes") }
        let (size, sizeLength) = try readVint(at: offset + idLength, limit: limit, keepMarker: false)
        let dataOffset = offset + idLength + sizeLength
        let unknownSize = (UInt64(1) << UInt64(7 * sizeLength)) - 1
        guard size != unknownSize else {
            throw ParseError(offset: offset, reason: "unknown-size element 0x\(String(id, radix: 16))")
        }
        guard size <= UInt64(limit - dataOffset) else {
            throw ParseError(
                offset: offset, reason: "element 0x\(String(id, radix: 16)) of \(size) bytes runs past its parent")
        }
        return Element(id: UInt32(id), offset: offset, dataOffset: dataOffset, dataSize: Int(size))
    }

    private func readVint(at offset: Int, limit: Int, keepMarker: Bool) throws -> (UInt64, Int) {
        guard offset < limit else { throw ParseError(offset: offset, reason: "truncated variable-length integer") }
        let first = bytes[offset]
        guard first != 0 else {
            throw ParseError(offset: offset, reason: "variable-length integer longer than 8 bytes")
        }
        let length = first.leadingZeroBitCount + 1
        guard offset + length <= limit else {
            throw ParseError(offset: offset, reason: "truncated variable-length integer")
        }
        var value = UInt64(keepMarker ? first : first & (0xFF >> UInt8(length)))
        for index in 1..<length {
            value = value << 8 | UInt64(bytes[offset + index])
        }
        return (value, length)
    }

    public func unsigned(_ element: Element) throws -> UInt64 {
        guard element.dataSize <= 8 else {
            throw ParseError(offset: element.offset, reason: "unsigned integer wider than 8 bytes")
        }
        var value: UInt64 = 0
        for index in element.dataOffset..<element.end {
            value = value << 8 | UInt64(bytes[index])
        }
        return value
    }

    public func signed(_ element: Element) throws -> Int64 {
        let raw = try unsigned(element)
        guard element.dataSize > 0 else { return 0 }
        let shift = UInt64(64 - 8 * element.dataSize)
        return Int64(bitPattern: raw << shift) >> Int64(shift)
    }

    public func float(_ element: Element) throws -> Double {
        switch element.dataSize {
        case 4: return Double(Float(bitPattern: UInt32(try unsigned(element))))
        case 8: return Double(bitPattern: try unsigned(element))
        case 0: return 0
        default: throw ParseError(offset: element.offset, reason: "float of \(element.dataSize) bytes")
        }
    }

    public func string(_ element: Element) -> String {
        let slice = bytes[element.dataOffset..<element.end].prefix { $0 != 0 }
        return String(decoding: slice, as: UTF8.self)
    }
}
