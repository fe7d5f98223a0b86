/// An append-only byte buffer that encodes EBML elements (RFC 8794).
///
/// Masters are written by building the child buffer first and appending it with its exact size,
/// which is cheap for our in-memory segments and keeps every size field minimal and correct.
public struct EBMLBuffer: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(reservingCapacity capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }

    public mutating func appendID(_ id: UInt32) {
        if id > 0xFF_FFFF {
            bytes.append(UInt8(truncatingIfNeeded: id >> 24))
        }
        if id > 0xFFFF {
            bytes.append(UInt8(truncatingIfNeeded: id >> 16))
        }
        if id > 0xFF {
            bytes.append(UInt8(truncatingIfNeeded: id >> 8))
        }
        bytes.append(UInt8(truncatingIfNeeded: id))
    }

    /// Writes an element data size as a variable-length integer; `width` forces a fixed length
    /// (used where a later patch or a precomputed layout needs a size that cannot change).
    public mutating func appendSize(_ size: UInt64, width: Int? = nil) {
        let length = width ?? EBMLBuffer.minimalSizeLength(size)
        precondition((1...8).contains(length), "EBML size length must be 1...8")
        let marked = size | (UInt64(1) << UInt64(7 * length))
        for index in stride(from: length - 1, through: 0, by: -1) {
            bytes.append(UInt8(truncatingIfNeeded: marked >> UInt64(8 * index)))
        }
    }

    /// The shortest vint length that can hold `size`; all-ones values are reserved for "unknown".
    public static func minimalSizeLength(_ size: UInt64) -> Int {
        var length = 1
        while length < 8 && size >= (UInt64(1) << UInt64(7 * length)) - 1 {
            length += 1
        }
        return length
    }

    public mutating func appendUnsigned(_ id: UInt32, _ value: UInt64, width: Int? = nil) {
        let length = width ?? max(1, (64 - value.leadingZeroBitCount + 7) / 8)
        appendID(id)
        appendSize(UInt64(length))
        for index in stride(from: length - 1, through: 0, by: -1) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(8 * index)))
        }
    }

    public mutating func appendSigned(_ id: UInt32, _ value: Int64) {
        appendID(id)
        appendSize(8)
        let raw = UInt64(bitPattern: value)
        for index in stride(from: 7, through: 0, by: -1) {
            bytes.append(UInt8(truncatingIfNeeded: raw >> UInt64(8 * index)))
        }
    }

    public mutating func appendFloat(_ id: UInt32, _ value: Double) {
        appendID(id)
        appendSize(8)
        let raw = value.bitPattern
        for index in stride(from: 7, through: 0, by: -1) {
            bytes.append(UInt8(truncatingIfNeeded: raw >> UInt64(8 * index)))
        }
    }

    public mutating func appendString(_ id: UInt32, _ value: String) {
        let utf8 = Array(value.utf8)
        appendBinary(id, utf8)
    }

    public mutating func appendBinary(_ id: UInt32, _ value: [UInt8]) {
        appendID(id)
        appendSize(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func appendMaster(_ id: UInt32, _ children: EBMLBuffer, sizeWidth: Int? = nil) {
        appendID(id)
        appendSize(UInt64(children.count), width: sizeWidth)
        bytes.append(contentsOf: children.bytes)
    }

    public mutating func appendMaster(_ id: UInt32, _ build: (inout EBMLBuffer) -> Void) {
        var children = EBMLBuffer()
        build(&children)
        appendMaster(id, children)
    }

    public mutating func appendRaw(_ raw: [UInt8]) {
        bytes.append(contentsOf: raw)
    }
}
