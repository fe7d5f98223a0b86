import Foundation
import RecorderCore

/// What a voice file is, read from its own bytes, never from its name or its Content-Type: container,
/// codec, channels, rate and duration. The phone system's label is checked against it, so a
/// mislabelled file is refused instead of being catalogued as something it is not.
public struct AudioFacts: Codable, Sendable, Equatable {
    public enum Container: String, Codable, Sendable {
        case wav, ogg
    }

    public enum Codec: String, Codable, Sendable {
        /// Linear PCM, 16-bit little-endian.
        case pcm16 = "pcm_s16le"
        /// G.711 µ-law and A-law, 8 bits per sample.
        case mulaw = "pcm_mulaw"
        case alaw = "pcm_alaw"
        case opus
    }

    public var container: Container
    public var codec: Codec
    public var channels: Int
    public var sampleRate: Int
    public var durationMs: Int64

    enum CodingKeys: String, CodingKey {
        case container, codec, channels
        case sampleRate = "sample_rate"
        case durationMs = "duration_ms"
    }

    /// The file name's suffix for this container, before `.p7m`.
    public var suffix: String { container == .wav ? ".wav" : ".opus" }
}

/// Why a body is not a voice recording we can keep: said precisely enough to fix the sender.
public struct AudioRefusal: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Sendable {
        /// A format we do not take (MP3, FLAC, 24-bit PCM): 415.
        case unsupported
        /// Broken, truncated or contradicting its own header or its label: 422.
        case invalid
    }

    public let kind: Kind
    public let description: String

    init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}

public enum AudioProbe {
    /// Reads `bytes` as WAV (PCM 16-bit, G.711 µ-law/A-law) or Ogg/Opus. `contentType` (the sender's
    /// label, parameters ignored) must agree with what the bytes are; `application/octet-stream` or
    /// nil leaves it to the bytes.
    public static func probe(_ bytes: [UInt8], contentType: String?) throws(AudioRefusal) -> AudioFacts {
        let label = contentType.map(mediaType)
        guard !bytes.isEmpty else { throw AudioRefusal(.invalid, "the body is empty: send the recording's bytes") }
        let facts: AudioFacts
        if bytes.starts(with: Array("RIFF".utf8)) {
            facts = try WAVReader.read(bytes)
        } else if bytes.starts(with: Array("OggS".utf8)) {
            facts = try OggOpusReader.read(bytes)
        } else if bytes.starts(with: Array("ID3".utf8)) || (bytes.count > 1 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0) {
            throw AudioRefusal(.unsupported, "this is MP3, which the collector does not take: send WAV (PCM or G.711) or Ogg/Opus")
        } else if bytes.starts(with: Array("fLaC".utf8)) {
            throw AudioRefusal(.unsupported, "this is FLAC, which the collector does not take: send WAV (PCM or G.711) or Ogg/Opus")
        } else {
            throw AudioRefusal(.invalid, "the body is neither WAV (RIFF) nor Ogg: its first bytes are \(hexPrefix(bytes))")
        }
        if let label, let expected = labels[label], expected != facts.container {
            throw AudioRefusal(
                .invalid, "Content-Type says \(label), but the body is \(facts.container == .wav ? "WAV" : "Ogg/Opus")")
        }
        if let label, labels[label] == nil, label != "application/octet-stream" {
            throw AudioRefusal(
                .unsupported,
                "Content-Type \(OutsideText.bounded(label, limit: 60)) is not taken: use audio/wav, audio/ogg or application/octet-stream")
        }
        return facts
    }

    static let labels: [String: AudioFacts.Container] = [
        "audio/wav": .wav, "audio/x-wav": .wav, "audio/wave": .wav, "audio/vnd.wave": .wav,
        "audio/ogg": .ogg, "audio/opus": .ogg, "application/ogg": .ogg,
    ]

    static func mediaType(_ contentType: String) -> String {
        String(contentType.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespaces).lowercased()
    }

    static func hexPrefix(_ bytes: [UInt8]) -> String {
        bytes.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
    }
}

/// Little-endian reads that never run past the end.
struct ByteReader {
    let bytes: [UInt8]

    func u16(_ offset: Int) -> Int? {
        guard offset >= 0, offset + 2 <= bytes.count else { return nil }
        return Int(bytes[offset]) | Int(bytes[offset + 1]) << 8
    }

    func u32(_ offset: Int) -> Int? {
        guard let low = u16(offset), let high = u16(offset + 2) else { return nil }
        return low | high << 16
    }

    func u64(_ offset: Int) -> UInt64? {
        guard let low = u32(offset), let high = u32(offset + 4) else { return nil }
        return UInt64(low) | UInt64(high) << 32
    }

    func tag(_ offset: Int) -> String? {
        guard offset >= 0, offset + 4 <= bytes.count else { return nil }
        return String(decoding: bytes[offset..<offset + 4], as: UTF8.self)
    }
}

/// RIFF/WAVE: the `fmt ` chunk's format, channels, rate and block alignment must agree with each other,
/// and the `data` chunk must be all there.
enum WAVReader {
    static func read(_ bytes: [UInt8]) throws(AudioRefusal) -> AudioFacts {
        let reader = ByteReader(bytes: bytes)
        guard reader.tag(8) == "WAVE", let riffSize = reader.u32(4) else {
            throw AudioRefusal(.invalid, "a RIFF file that is not WAVE")
        }
        if riffSize + 8 > bytes.count {
            throw AudioRefusal(
                .invalid, "truncated WAV: its RIFF header says \(riffSize + 8) bytes, the body has \(bytes.count)")
        }
        // Chunks are read within the RIFF's own size; bytes after it (a tag some writers append) are not audio.
        let end = riffSize + 8
        var offset = 12
        var format: (codec: AudioFacts.Codec, channels: Int, rate: Int, blockAlign: Int)?
        // The whole RIFF is walked: a second data chunk would be audio nobody is told of.
        var frames: Int64?
        while offset + 8 <= end {
            guard let id = reader.tag(offset), let size = reader.u32(offset + 4) else { break }
            let body = offset + 8
            switch id {
            case "fmt ":
                guard size >= 16, body + size <= end else {
                    throw AudioRefusal(.invalid, "truncated WAV: its fmt chunk is cut short")
                }
                guard format == nil else { throw AudioRefusal(.invalid, "a WAV with two fmt chunks") }
                format = try Self.format(reader, at: body, size: size)
            case "data":
                guard frames == nil else { throw AudioRefusal(.invalid, "a WAV with two data chunks") }
                guard let format else {
                    throw AudioRefusal(.invalid, "a WAV whose data comes before its fmt chunk")
                }
                guard body + size <= end else {
                    throw AudioRefusal(
                        .invalid,
                        "truncated WAV: its data chunk says \(size) bytes, \(end - body) are there")
                }
                guard size > 0 else { throw AudioRefusal(.invalid, "a WAV without audio (its data chunk is empty)") }
                guard size % format.blockAlign == 0 else {
                    throw AudioRefusal(
                        .invalid,
                        "a WAV whose data (\(size) bytes) is not a whole number of \(format.blockAlign)-byte frames")
                }
                frames = Int64(size / format.blockAlign)
            default:
                guard body + size <= end else {
                    throw AudioRefusal(.invalid, "truncated WAV: its \(OutsideText.bounded(id, limit: 4)) chunk runs past the file")
                }
            }
            // Chunks are padded to an even size.
            offset = body + size + (size & 1)
        }
        guard let format else { throw AudioRefusal(.invalid, "a WAV without a fmt chunk") }
        guard let frames else { throw AudioRefusal(.invalid, "a WAV without a data chunk") }
        return AudioFacts(
            container: .wav, codec: format.codec, channels: format.channels, sampleRate: format.rate,
            durationMs: frames * 1000 / Int64(format.rate))
    }

    private static func format(_ reader: ByteReader, at body: Int, size: Int) throws(AudioRefusal) -> (
        codec: AudioFacts.Codec, channels: Int, rate: Int, blockAlign: Int
    ) {
        var tag = reader.u16(body)!
        let channels = reader.u16(body + 2)!
        let rate = reader.u32(body + 4)!
        let byteRate = reader.u32(body + 8)!
        let blockAlign = reader.u16(body + 12)!
        let bits = reader.u16(body + 14)!
        // WAVE_FORMAT_EXTENSIBLE: the real format is the sub-format GUID's first two bytes.
        if tag == 0xFFFE {
            guard size >= 40, let sub = reader.u16(body + 24) else {
                throw AudioRefusal(.invalid, "a WAVE_FORMAT_EXTENSIBLE header without its sub-format")
            }
            tag = sub
        }
        let codec: AudioFacts.Codec
        switch (tag, bits) {
        case (1, 16): codec = .pcm16
        case (1, _):
            throw AudioRefusal(.unsupported, "\(bits)-bit PCM WAV is not taken: send 16-bit PCM or G.711")
        case (6, 8): codec = .alaw
        case (7, 8): codec = .mulaw
        case (6, _), (7, _): throw AudioRefusal(.invalid, "G.711 WAV must have 8 bits per sample, this one says \(bits)")
        case (3, _): throw AudioRefusal(.unsupported, "floating-point WAV is not taken: send 16-bit PCM or G.711")
        default:
            throw AudioRefusal(
                .unsupported,
                "WAV format tag \(tag) is not taken: send PCM 16-bit (1), A-law (6) or µ-law (7), or Ogg/Opus")
        }
        guard (1...8).contains(channels) else {
            throw AudioRefusal(.invalid, "a WAV with \(channels) channel\(channels == 1 ? "" : "s"); 1 to 8 are taken")
        }
        guard (4000...192_000).contains(rate) else {
            throw AudioRefusal(.invalid, "a WAV at \(rate) Hz; 4 000 to 192 000 Hz are taken")
        }
        guard blockAlign == channels * bits / 8, byteRate == rate * blockAlign else {
            throw AudioRefusal(
                .invalid,
                "a WAV header that contradicts itself: \(channels) channels of \(bits) bits need \(channels * bits / 8)-byte frames and \(rate * channels * bits / 8) bytes/s, it says \(blockAlign) and \(byteRate)"
            )
        }
        return (codec, channels, rate, blockAlign)
    }
}
