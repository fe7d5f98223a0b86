/// Ogg/Opus (RFC 7845): every page is checked (capture pattern, CRC, one logical stream, no missing
/// page), the first packet must be `OpusHead`, and the last page must end the stream. The duration is
/// the last page's granule position less the pre-skip, at Opus's 48 kHz.
enum OggOpusReader {
    static func read(_ bytes: [UInt8]) throws(AudioRefusal) -> AudioFacts {
        let reader = ByteReader(bytes: bytes)
        var offset = 0
        var serial: Int?
        var expectedSequence = 0
        var channels = 0
        var preSkip = 0
        var lastGranule: UInt64 = 0
        var ended = false
        while offset < bytes.count {
            guard !ended else {
                throw AudioRefusal(.invalid, "Ogg data after the end-of-stream page (at byte \(offset))")
            }
            guard reader.tag(offset) == "OggS", offset + 27 <= bytes.count else {
                throw AudioRefusal(
                    .invalid, offset + 27 > bytes.count && reader.tag(offset) == "OggS"
                        ? "truncated Ogg: the page at byte \(offset) is cut short"
                        : "not an Ogg page at byte \(offset): the stream is damaged")
            }
            guard bytes[offset + 4] == 0 else {
                throw AudioRefusal(.invalid, "Ogg version \(bytes[offset + 4]) at byte \(offset); only version 0 exists")
            }
            let flags = bytes[offset + 5]
            let granule = reader.u64(offset + 6)!
            let pageSerial = reader.u32(offset + 14)!
            let sequence = reader.u32(offset + 18)!
            let stored = UInt32(reader.u32(offset + 22)!)
            let segments = Int(bytes[offset + 26])
            let headerEnd = offset + 27 + segments
            guard headerEnd <= bytes.count else {
                throw AudioRefusal(.invalid, "truncated Ogg: the page at byte \(offset) is cut short")
            }
            let bodySize = bytes[(offset + 27)..<headerEnd].reduce(0) { $0 + Int($1) }
            let end = headerEnd + bodySize
            guard end <= bytes.count else {
                throw AudioRefusal(.invalid, "truncated Ogg: the page at byte \(offset) needs \(end - offset) bytes, \(bytes.count - offset) are there")
            }
            guard crc(bytes, offset..<end) == stored else {
                throw AudioRefusal(.invalid, "damaged Ogg: the page at byte \(offset) fails its CRC")
            }
            if let serial, serial != pageSerial {
                throw AudioRefusal(.unsupported, "an Ogg file with more than one stream is not taken: send one Opus stream")
            }
            guard sequence == expectedSequence else {
                throw AudioRefusal(.invalid, "Ogg page \(expectedSequence) is missing (page \(sequence) follows)")
            }
            if serial == nil {
                guard flags & 0x02 != 0 else { throw AudioRefusal(.invalid, "the first Ogg page does not begin a stream") }
                let head = Array(bytes[headerEnd..<end])
                if head.starts(with: [0x01] + Array("vorbis".utf8)) {
                    throw AudioRefusal(.unsupported, "Ogg Vorbis is not taken: send Ogg/Opus or WAV")
                }
                guard head.count >= 19, head.starts(with: Array("OpusHead".utf8)) else {
                    throw AudioRefusal(.invalid, "an Ogg stream whose first packet is not OpusHead")
                }
                guard head[8] >> 4 == 0 else {
                    throw AudioRefusal(.unsupported, "OpusHead version \(head[8]) is not taken (major version 0 only)")
                }
                channels = Int(head[9])
                preSkip = Int(head[10]) | Int(head[11]) << 8
                guard (1...8).contains(channels) else {
                    throw AudioRefusal(.invalid, "an Opus stream with \(channels) channels; 1 to 8 are taken")
                }
                // Mapping family 0 is mono or stereo (RFC 7845, 5.1.1); more channels need a mapping table.
                guard head[18] != 0 || channels <= 2 else {
                    throw AudioRefusal(.invalid, "an Opus stream of \(channels) channels without a channel mapping")
                }
            }
            serial = pageSerial
            expectedSequence += 1
            // -1 marks a page on which no packet ends. A granule position is a sample count at 48 kHz: more
            // than a day's worth is a forged file, refused before any arithmetic can overflow.
            if granule != UInt64.max {
                guard granule <= Self.maxGranule else {
                    throw AudioRefusal(.invalid, "the Ogg page at byte \(offset) claims more than a day of audio")
                }
                guard granule >= lastGranule else {
                    throw AudioRefusal(.invalid, "the Ogg page at byte \(offset) goes back in time (its granule position falls)")
                }
                lastGranule = granule
            }
            ended = flags & 0x04 != 0
            offset = end
        }
        guard ended else { throw AudioRefusal(.invalid, "truncated Ogg: no end-of-stream page") }
        let samples = lastGranule > UInt64(preSkip) ? lastGranule - UInt64(preSkip) : 0
        guard samples > 0 else { throw AudioRefusal(.invalid, "an Opus stream without audio") }
        return AudioFacts(
            container: .ogg, codec: .opus, channels: channels, sampleRate: 48_000,
            durationMs: Int64(samples / 48))
    }

    /// A day at 48 kHz.
    static let maxGranule: UInt64 = 48_000 * 86_400

    /// Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, initial 0, over the page with its CRC
    /// field taken as zero.
    static func crc(_ bytes: [UInt8], _ range: Range<Int>) -> UInt32 {
        var crc: UInt32 = 0
        for index in range {
            let byte = (index - range.lowerBound >= 22 && index - range.lowerBound < 26) ? 0 : bytes[index]
            crc = (crc << 8) ^ table[Int((crc >> 24) ^ UInt32(byte))]
        }
        return crc
    }

    static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index) << 24
        for _ in 0..<8 { value = value & 0x8000_0000 != 0 ? (value << 1) ^ 0x04C1_1DB7 : value << 1 }
        return value
    }
}
