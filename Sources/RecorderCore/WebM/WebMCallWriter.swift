/// Builds one WebM file of a whole call in memory: the screen as VP8 (track 1) and the voice as Opus
/// (track 2), interleaved in time, seekable (Cues on the video's keyframes, placed before the Clusters
/// as in `WebMSegmentWriter`), with the call's length as `Duration` and its start as `DateUTC`.
///
/// Opus follows the Matroska rules: `CodecPrivate` is the stream's OpusHead, `CodecDelay` its pre-skip
/// (a decoder drops that much from the start), `SeekPreRoll` 80 ms.
public struct WebMCallWriter: Sendable {
    public struct Audio: Sendable {
        public var opusHead: [UInt8]
        public var channels: Int
        public var preSkipSamples: Int

        public init(opusHead: [UInt8], channels: Int, preSkipSamples: Int) {
            self.opusHead = opusHead
            self.channels = channels
            self.preSkipSamples = preSkipSamples
        }
    }

    public enum Track: UInt8, Sendable {
        case video = 1
        case audio = 2
    }

    public let width: Int
    public let height: Int
    public let audio: Audio?
    public let startWallTimeNanos: Int64
    public let title: String

    private var clusters = EBMLBuffer(reservingCapacity: 1 << 20)
    private var cluster = EBMLBuffer()
    private var clusterTimestamp: Int64 = 0
    private var clusterHasBlocks = false
    private var cuePoints: [(timeMs: Int64, clusterOffset: Int)] = []
    private var lastTimestamp: [Track: Int64] = [:]
    public private(set) var videoFrames = 0
    public private(set) var audioPackets = 0
    public private(set) var lastTimestampMs: Int64 = 0

    /// A block the file cannot take as given: the caller's mistake, told rather than a crash.
    public struct Misuse: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public init(width: Int, height: Int, audio: Audio?, startWallTimeNanos: Int64, title: String) throws {
        guard (1...16384).contains(width), (1...16384).contains(height) else {
            throw Misuse(description: "a video of \(width)×\(height) pixels")
        }
        self.width = width
        self.height = height
        self.audio = audio
        self.startWallTimeNanos = startWallTimeNanos
        self.title = title
    }

    /// Appends one frame (VP8) or packet (Opus). Blocks come in time order across both tracks; each
    /// track's own timestamps increase; the video starts with a keyframe.
    public mutating func append(_ track: Track, _ data: [UInt8], timestampMs: Int64, isKeyframe: Bool) throws {
        guard timestampMs >= lastTimestampMs, timestampMs >= 0 else {
            throw Misuse(description: "a block at \(timestampMs) ms after one at \(lastTimestampMs) ms: blocks come in time order")
        }
        guard lastTimestamp[track].map({ timestampMs > $0 }) ?? true else {
            throw Misuse(description: "two blocks of one track at \(timestampMs) ms")
        }
        guard track == .audio || videoFrames > 0 || isKeyframe else {
            throw Misuse(description: "the video must start with a keyframe")
        }
        guard track == .video || audio != nil else { throw Misuse(description: "no audio track was declared") }
        lastTimestamp[track] = timestampMs
        lastTimestampMs = timestampMs
        let videoKeyframe = track == .video && isKeyframe
        if !clusterHasBlocks || videoKeyframe || timestampMs - clusterTimestamp > WebMSegmentWriter.maxClusterSpanMs {
            closeCluster()
            clusterTimestamp = timestampMs
            cluster.appendUnsigned(EBMLID.clusterTimestamp, UInt64(timestampMs))
            if videoKeyframe { cuePoints.append((timestampMs, clusters.count)) }
        }
        let relative = UInt16(bitPattern: Int16(timestampMs - clusterTimestamp))
        cluster.appendID(EBMLID.simpleBlock)
        cluster.appendSize(UInt64(data.count + 4))
        cluster.appendRaw([
            0x80 | track.rawValue, UInt8(truncatingIfNeeded: relative >> 8), UInt8(truncatingIfNeeded: relative),
            isKeyframe || track == .audio ? 0x80 : 0x00,
        ])
        cluster.appendRaw(data)
        clusterHasBlocks = true
        if track == .video { videoFrames += 1 } else { audioPackets += 1 }
    }

    private mutating func closeCluster() {
        guard clusterHasBlocks else { return }
        clusters.appendMaster(EBMLID.cluster, cluster)
        cluster = EBMLBuffer(reservingCapacity: 256 << 10)
        clusterHasBlocks = false
    }

    /// The file, `durationMs` long (the call's length, at least to its last block).
    public mutating func finish(durationMs: Double) throws -> [UInt8] {
        guard videoFrames > 0 else { throw Misuse(description: "a call file needs at least one video frame") }
        closeCluster()
        var info = EBMLBuffer()
        info.appendMaster(EBMLID.info) { body in
            body.appendUnsigned(EBMLID.timestampScale, 1_000_000)
            body.appendFloat(EBMLID.duration, max(durationMs, Double(lastTimestampMs) + 1))
            body.appendSigned(EBMLID.dateUTC, WebMTime.matroskaDate(fromUnixNanos: startWallTimeNanos))
            body.appendString(EBMLID.title, title)
            body.appendString(EBMLID.muxingApp, "recorder-collector")
            body.appendString(EBMLID.writingApp, "recorder-collector")
        }
        let moved = clusters
        clusters = EBMLBuffer()
        return WebMSegmentWriter.file(info: info, tracks: makeTracks(), cuePoints: cuePoints, clusters: moved)
    }

    private func makeTracks() -> EBMLBuffer {
        var tracks = EBMLBuffer()
        tracks.appendMaster(EBMLID.tracks) { body in
            WebMSegmentWriter.appendVideoTrack(to: &body, width: width, height: height)
            guard let audio else { return }
            body.appendMaster(EBMLID.trackEntry) { entry in
                entry.appendUnsigned(EBMLID.trackNumber, 2)
                entry.appendUnsigned(EBMLID.trackUID, 2)
                entry.appendUnsigned(EBMLID.trackType, 2)
                entry.appendUnsigned(EBMLID.flagLacing, 0)
                entry.appendString(EBMLID.codecID, "A_OPUS")
                entry.appendBinary(EBMLID.codecPrivate, audio.opusHead)
                entry.appendUnsigned(EBMLID.codecDelay, UInt64(audio.preSkipSamples) * 1_000_000_000 / 48_000)
                entry.appendUnsigned(EBMLID.seekPreRoll, 80_000_000)
                entry.appendMaster(EBMLID.audio) { fields in
                    fields.appendFloat(EBMLID.samplingFrequency, 48_000)
                    fields.appendUnsigned(EBMLID.channels, UInt64(audio.channels))
                }
            }
        }
        return tracks
    }
}
