/// Browsers play 16-bit PCM WAV but not G.711 (µ-law, A-law) WAV, which phone systems record. For
/// playback a G.711 recording is served as 16-bit PCM (ITU-T G.711's expansion, as sox does), each
/// range decoded as it is read; the stored recording stays as it came.
enum G711Playback {
    /// The 44-byte header of the 16-bit PCM WAV a G.711 recording plays as.
    static func header(dataBytes: Int, channels: Int, sampleRate: Int) -> [UInt8] {
        var out = [UInt8]()
        func u32(_ value: Int) { out += [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8((value >> 24) & 0xFF)] }
        func u16(_ value: Int) { out += [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF)] }
        out += Array("RIFF".utf8)
        u32(36 + dataBytes)
        out += Array("WAVEfmt ".utf8)
        u32(16)
        u16(1)
        u16(channels)
        u32(sampleRate)
        u32(sampleRate * channels * 2)
        u16(channels * 2)
        u16(16)
        out += Array("data".utf8)
        u32(dataBytes)
        return out
    }

    /// Bytes `range` of the PCM WAV that G.711 audio `source` (the stored file's data chunk) plays as:
    /// each output sample is decoded from its one input byte, so any range costs only itself.
    /// `read` gives bytes of the stored WAV; only the G.711 bytes the range decodes from are read.
    static func slice(
        _ range: Range<Int>, data: Range<Int>, header: [UInt8], law: AudioFacts.Codec, read: (Range<Int>) throws -> [UInt8]
    ) throws -> [UInt8] {
        let table = law == .mulaw ? muLaw : aLaw
        let first = max(0, range.lowerBound - header.count) / 2
        let end = max(0, range.upperBound - header.count + 1) / 2
        let input = end > first ? try read((data.lowerBound + first)..<(data.lowerBound + end)) : []
        var out = [UInt8]()
        out.reserveCapacity(range.count)
        for offset in range {
            if offset < header.count {
                out.append(header[offset])
                continue
            }
            let sample = UInt16(bitPattern: table[Int(input[(offset - header.count) / 2 - first])])
            out.append((offset - header.count) % 2 == 0 ? UInt8(sample & 0xFF) : UInt8(sample >> 8))
        }
        return out
    }

    /// Where the `data` chunk's audio is (the file was checked whole at intake).
    /// `wav`: the file's first bytes (its chunks before `data` are small); `total`: the file's size.
    static func dataChunk(_ wav: [UInt8], total: Int? = nil) -> Range<Int>? {
        let total = total ?? wav.count
        func u32(_ at: Int) -> Int { Int(wav[at]) | Int(wav[at + 1]) << 8 | Int(wav[at + 2]) << 16 | Int(wav[at + 3]) << 24 }
        var offset = 12
        while offset + 8 <= wav.count {
            let size = u32(offset + 4)
            if wav[offset..<offset + 4].elementsEqual("data".utf8) {
                return offset + 8 + size <= total ? (offset + 8)..<(offset + 8 + size) : nil
            }
            offset += 8 + size + (size & 1)
        }
        return nil
    }

    static let muLaw: [Int16] = (0..<256).map { code in
        let value = ~UInt8(code)
        let exponent = Int((value >> 4) & 0x07)
        let magnitude = ((Int(value & 0x0F) << 3) + 0x84) << exponent - 0x84
        return Int16(value & 0x80 != 0 ? -magnitude : magnitude)
    }

    static let aLaw: [Int16] = (0..<256).map { code in
        let value = UInt8(code) ^ 0x55
        let exponent = Int((value >> 4) & 0x07)
        let mantissa = Int(value & 0x0F)
        let magnitude = exponent == 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1)
        return Int16(value & 0x80 != 0 ? magnitude : -magnitude)
    }
}
