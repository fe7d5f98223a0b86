/// The packets of one Ogg/Opus stream (RFC 7845) as our own ffmpeg run wrote it, with each audio
/// packet's length from its TOC byte (RFC 6716, 3.1), for muxing into WebM. Bounds are checked all
/// the same: a short read or a damaged page is an error, never a wrong file.
struct OggOpusPackets {
    var head: [UInt8]
    var channels: Int
    var preSkip: Int
    /// Audio packets in order, each with the number of 48 kHz samples it holds.
    var packets: [(data: [UInt8], samples: Int)]

    struct Damaged: Error, CustomStringConvertible {
        let description: String
    }

    init(_ bytes: [UInt8]) throws {
        var all: [[UInt8]] = []
        var pending: [UInt8] = []
        var offset = 0
        while offset < bytes.count {
            guard offset + 27 <= bytes.count, Array(bytes[offset..<(offset + 4)]) == Array("OggS".utf8) else {
                throw Damaged(description: "the encoder's Ogg output is damaged at byte \(offset)")
            }
            let segments = Int(bytes[offset + 26])
            var position = offset + 27 + segments
            guard position <= bytes.count else { throw Damaged(description: "the encoder's Ogg output ends inside a page") }
            for index in 0..<segments {
                let lacing = Int(bytes[offset + 27 + index])
                guard position + lacing <= bytes.count else {
                    throw Damaged(description: "the encoder's Ogg output ends inside a packet")
                }
                pending += bytes[position..<(position + lacing)]
                position += lacing
                if lacing < 255 {
                    all.append(pending)
                    pending = []
                }
            }
            offset = position
        }
        guard all.count >= 2, all[0].count >= 19, all[0].starts(with: Array("OpusHead".utf8)) else {
            throw Damaged(description: "the encoder's output is not an Opus stream")
        }
        head = all[0]
        channels = Int(all[0][9])
        preSkip = Int(all[0][10]) | Int(all[0][11]) << 8
        packets = try all.dropFirst(2).filter { !$0.isEmpty }.map { ($0, try Self.samples(of: $0)) }
    }

    /// 48 kHz samples in one Opus packet: its frame size (from the configuration) times its frames.
    static func samples(of packet: [UInt8]) throws -> Int {
        let toc = packet[0]
        let config = Int(toc >> 3)
        let frame: Int =
            switch config {
            case 0...11: [480, 960, 1920, 2880][config % 4]
            case 12...15: [480, 960][config % 2]
            default: [120, 240, 480, 960][config % 4]
            }
        let frames: Int
        switch toc & 0x03 {
        case 0: frames = 1
        case 1, 2: frames = 2
        default:
            guard packet.count >= 2 else { throw Damaged(description: "an Opus packet without its frame count") }
            frames = Int(packet[1] & 0x3F)
        }
        return frame * frames
    }
}
