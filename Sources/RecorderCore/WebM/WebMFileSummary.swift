/// What a WebM file says about itself: the facts our tests, `verify` and the collector check.
public struct WebMFileSummary: Sendable {
    public struct Block: Sendable, Equatable {
        public let timestampMs: Int64
        public let isKeyframe: Bool
        public let size: Int
        /// Where the frame's bytes start in the file (after the block's track, time and flags).
        public let frameOffset: Int

        public var frameRange: Range<Int> { frameOffset..<(frameOffset + size) }
    }

    public struct CuePoint: Sendable, Equatable {
        public let timeMs: Int64
        /// Offset of the referenced Cluster from the start of the Segment's data.
        public let clusterPosition: Int
    }

    public var docType = ""
    public var durationMs: Double = 0
    /// Wall time of timestamp 0, nanoseconds since the Unix epoch.
    public var startWallTimeNanos: Int64 = 0
    public var codecID = ""
    public var width = 0
    public var height = 0
    public var blocks: [Block] = []
    public var cuePoints: [CuePoint] = []
    /// Offsets (from the Segment's data start) of every Cluster, with its timestamp.
    public var clusters: [(position: Int, timestampMs: Int64)] = []

    public struct InvalidFile: Error, CustomStringConvertible, Sendable {
        public let reason: String
        public var description: String { "not a valid recorder WebM file: \(reason)" }
    }

    /// Parses `bytes` and checks the invariants a recorder segment must hold: one VP8 track, a first
    /// keyframe, increasing timestamps, and Cues that point at Clusters starting with a keyframe.
    /// `checkingInvariants: false` reads any well-formed WebM of one VP8 track (another muxer's, such
    /// as ffmpeg's, whose Cues may point elsewhere) for its frames alone.
    public static func parse(_ bytes: [UInt8], checkingInvariants: Bool = true) throws -> WebMFileSummary {
        let reader = EBMLReader(bytes: bytes)
        var summary = WebMFileSummary()
        let top = try reader.children(in: 0..<bytes.count)
        guard top.count == 2, top[0].id == EBMLID.ebml, top[1].id == EBMLID.segment else {
            throw InvalidFile(reason: "expected an EBML header followed by one Segment")
        }
        for element in try reader.children(in: top[0].dataOffset..<top[0].end) where element.id == EBMLID.docType {
            summary.docType = reader.string(element)
        }
        let segment = top[1]
        for element in try reader.children(in: segment.dataOffset..<segment.end) {
            let range = element.dataOffset..<element.end
            switch element.id {
            case EBMLID.info:
                try summary.readInfo(reader, range)
            case EBMLID.tracks:
                try summary.readTracks(reader, range)
            case EBMLID.cues:
                try summary.readCues(reader, range)
            case EBMLID.cluster:
                try summary.readCluster(reader, element, segmentDataOffset: segment.dataOffset)
            default:
                continue
            }
        }
        if checkingInvariants { try summary.validate() }
        return summary
    }

    private mutating func readInfo(_ reader: EBMLReader, _ range: Range<Int>) throws {
        for element in try reader.children(in: range) {
            switch element.id {
            case EBMLID.timestampScale:
                guard try reader.unsigned(element) == 1_000_000 else {
                    throw InvalidFile(reason: "TimestampScale is not 1 ms")
                }
            case EBMLID.duration: durationMs = try reader.float(element)
            case EBMLID.dateUTC: startWallTimeNanos = WebMTime.unixNanos(fromMatroskaDate: try reader.signed(element))
            default: continue
            }
        }
    }

    private mutating func readTracks(_ reader: EBMLReader, _ range: Range<Int>) throws {
        let entries = try reader.children(in: range).filter { $0.id == EBMLID.trackEntry }
        guard entries.count == 1 else { throw InvalidFile(reason: "expected one track, found \(entries.count)") }
        for element in try reader.children(in: entries[0].dataOffset..<entries[0].end) {
            if element.id == EBMLID.codecID { codecID = reader.string(element) }
            if element.id == EBMLID.video {
                for field in try reader.children(in: element.dataOffset..<element.end) {
                    if field.id == EBMLID.pixelWidth { width = Int(try reader.unsigned(field)) }
                    if field.id == EBMLID.pixelHeight { height = Int(try reader.unsigned(field)) }
                }
            }
        }
    }

    private mutating func readCues(_ reader: EBMLReader, _ range: Range<Int>) throws {
        for point in try reader.children(in: range) where point.id == EBMLID.cuePoint {
            var time: Int64 = -1
            var position = -1
            for field in try reader.children(in: point.dataOffset..<point.end) {
                if field.id == EBMLID.cueTime { time = Int64(try reader.unsigned(field)) }
                if field.id == EBMLID.cueTrackPositions {
                    for inner in try reader.children(in: field.dataOffset..<field.end)
                    where inner.id == EBMLID.cueClusterPosition {
                        position = Int(try reader.unsigned(inner))
                    }
                }
            }
            guard time >= 0, position >= 0 else { throw InvalidFile(reason: "CuePoint without time or position") }
            cuePoints.append(CuePoint(timeMs: time, clusterPosition: position))
        }
    }

    private mutating func readCluster(_ reader: EBMLReader, _ cluster: EBMLReader.Element, segmentDataOffset: Int)
        throws
    {
        var clusterTimestamp: Int64?
        for element in try reader.children(in: cluster.dataOffset..<cluster.end) {
            if element.id == EBMLID.clusterTimestamp {
                clusterTimestamp = Int64(try reader.unsigned(element))
                clusters.append((cluster.offset - segmentDataOffset, clusterTimestamp!))
            } else if element.id == EBMLID.simpleBlock {
                guard let base = clusterTimestamp else {
                    throw InvalidFile(reason: "SimpleBlock before Cluster Timestamp")
                }
                guard element.dataSize >= 4, reader.bytes[element.dataOffset] == 0x81 else {
                    throw InvalidFile(reason: "SimpleBlock for an unknown track at byte \(element.offset)")
                }
                let high = UInt16(reader.bytes[element.dataOffset + 1])
                let low = UInt16(reader.bytes[element.dataOffset + 2])
                let relative = Int16(bitPattern: high << 8 | low)
                let flags = reader.bytes[element.dataOffset + 3]
                blocks.append(
                    Block(
                        timestampMs: base + Int64(relative), isKeyframe: flags & 0x80 != 0, size: element.dataSize - 4,
                        frameOffset: element.dataOffset + 4))
            }
        }
    }

    private func validate() throws {
        guard docType == "webm" else { throw InvalidFile(reason: "DocType is \"\(docType)\", expected \"webm\"") }
        guard codecID == "V_VP8" else { throw InvalidFile(reason: "codec is \"\(codecID)\", expected V_VP8") }
        guard width > 0, height > 0 else { throw InvalidFile(reason: "missing video size") }
        guard let first = blocks.first, first.isKeyframe, first.timestampMs == 0 else {
            throw InvalidFile(reason: "the first frame must be a keyframe at timestamp 0")
        }
        for (previous, next) in zip(blocks, blocks.dropFirst()) where next.timestampMs <= previous.timestampMs {
            throw InvalidFile(reason: "frame timestamps do not increase at \(next.timestampMs) ms")
        }
        guard !cuePoints.isEmpty else { throw InvalidFile(reason: "no Cues: the file is not seekable") }
        for cue in cuePoints {
            guard let cluster = clusters.first(where: { $0.position == cue.clusterPosition }),
                cluster.timestampMs == cue.timeMs
            else {
                throw InvalidFile(
                    reason: "CuePoint at \(cue.timeMs) ms does not point at a Cluster with that timestamp")
            }
        }
        guard durationMs >= Double(blocks.last!.timestampMs) else {
            throw InvalidFile(reason: "Duration \(durationMs) ms ends before the last frame")
        }
    }
}
