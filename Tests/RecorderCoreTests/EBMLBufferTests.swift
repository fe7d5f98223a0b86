import Testing

@testable import RecorderCore

struct EBMLBufferTests {
    @Test(
        arguments: [
            (UInt64(0), [UInt8(0x80)]),
            (UInt64(126), [UInt8(0xFE)]),
            // 127 in one byte would be the reserved "unknown size" pattern, so it takes two.
            (UInt64(127), [UInt8(0x40), 0x7F]),
            (UInt64(16382), [UInt8(0x7F), 0xFE]),
            (UInt64(16383), [UInt8(0x20), 0x3F, 0xFF]),
        ] as [(UInt64, [UInt8])])
    func sizesUseTheShortestValidVint(_ size: UInt64, _ expected: [UInt8]) {
        var buffer = EBMLBuffer()
        buffer.appendSize(size)
        #expect(buffer.bytes == expected)
    }

    @Test func fixedWidthSizes() {
        var buffer = EBMLBuffer()
        buffer.appendSize(5, width: 8)
        #expect(buffer.bytes == [0x01, 0, 0, 0, 0, 0, 0, 5])
    }

    @Test func idsKeepTheirMarkerBits() {
        var buffer = EBMLBuffer()
        buffer.appendID(EBMLID.segment)
        buffer.appendID(EBMLID.duration)
        buffer.appendID(EBMLID.simpleBlock)
        #expect(buffer.bytes == [0x18, 0x53, 0x80, 0x67, 0x44, 0x89, 0xA3])
    }

    @Test func readerRoundTripsNumbers() throws {
        var buffer = EBMLBuffer()
        buffer.appendUnsigned(EBMLID.pixelWidth, 1366)
        buffer.appendSigned(EBMLID.dateUTC, -42)
        buffer.appendFloat(EBMLID.duration, 9_999.5)
        buffer.appendString(EBMLID.codecID, "V_VP8")
        let reader = EBMLReader(bytes: buffer.bytes)
        let elements = try reader.children(in: 0..<buffer.count)
        #expect(elements.map(\.id) == [EBMLID.pixelWidth, EBMLID.dateUTC, EBMLID.duration, EBMLID.codecID])
        #expect(try reader.unsigned(elements[0]) == 1366)
        #expect(try reader.signed(elements[1]) == -42)
        #expect(try reader.float(elements[2]) == 9_999.5)
        #expect(reader.string(elements[3]) == "V_VP8")
    }

    @Test func readerRejectsSizesPastTheParent() {
        // A Cluster claiming 1000 bytes in a 6-byte buffer.
        let bytes: [UInt8] = [0x1F, 0x43, 0xB6, 0x75, 0x43, 0xE8]
        #expect(throws: EBMLReader.ParseError.self) {
            try EBMLReader(bytes: bytes).children(in: 0..<bytes.count)
        }
    }
}
