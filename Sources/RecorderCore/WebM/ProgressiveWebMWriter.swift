/// The WebM of a segment sealed as it is recorded (`ProgressiveSeal`): what is written stays where
/// it is, and the file can be closed after any cluster.
///
/// Layout: a header of fixed length, then the Clusters as they are cut, then Cues.
/// * The header is the EBML header, the Segment with an 8-byte size, SeekHead (8-byte positions),
///   Info (the Duration is always 8 bytes), Tracks, and a Void that makes its length a multiple of
///   16 (the seal's body then starts on a block of its own). Its length depends on nothing recorded.
/// * Clusters leave the writer as bytes once complete: at a keyframe, past 30 s, or when the caller
///   cuts (the journal cuts once a second), so nothing recorded waits in the writer for long.
/// * `closing(durationMs:)` makes the header and Cues of a file ending after the clusters so far.
///
/// Cues at the end differ from `WebMSegmentWriter`'s layout (Cues first); the SeekHead says where
/// they are, as Matroska allows, and players and our parser find them there.
public struct ProgressiveWebMWriter: Sendable {
    public let width: Int
    public let height: Int
    public let startWallTimeNanos: Int64
    public let writingApp: String
    public let headerLength: Int

    private var current = EBMLBuffer()
    private var currentTimestamp: Int64 = 0
    private var currentHasBlocks = false
    /// Keyframe clusters: time, and offset from the first cluster.
    private var cuePoints: [(timeMs: Int64, clusterOffset: Int)] = []
    /// Bytes of complete clusters handed out so far.
    public private(set) var bodyLength = 0
    public private(set) var lastTimestampMs: Int64 = -1
    public private(set) var frameCount = 0

    public init(width: Int, height: Int, startWallTimeNanos: Int64, writingApp: String = "recorder-agent") {
        precondition(width > 0 && height > 0, "video size must be positive")
        self.width = width
        self.height = height
        self.startWallTimeNanos = startWallTimeNanos
        self.writingApp = writingApp
        headerLength = Self.header(
            width: width, height: height, startWallTimeNanos: startWallTimeNanos, writingApp: writingApp, durationMs: 0,
            bodyLength: 0, tailLength: 0
        ).count
    }

    /// Appends one encoded VP8 frame; returns the cluster it completed, if it began a new one.
    public mutating func append(frame: [UInt8], timestampMs: Int64, isKeyframe: Bool) -> [UInt8] {
        precondition(timestampMs > lastTimestampMs, "frame timestamps must increase")
        precondition(frameCount > 0 || isKeyframe, "a segment must start with a keyframe")
        lastTimestampMs = timestampMs
        var completed: [UInt8] = []
        if !currentHasBlocks || isKeyframe || timestampMs - currentTimestamp > WebMSegmentWriter.maxClusterSpanMs {
            completed = cut()
            currentTimestamp = timestampMs
            current.appendUnsigned(EBMLID.clusterTimestamp, UInt64(timestampMs))
            if isKeyframe { cuePoints.append((timestampMs, bodyLength)) }
        }
        WebMSegmentWriter.appendSimpleBlock(
            to: &current, frame: frame, relativeMs: Int16(timestampMs - currentTimestamp), isKeyframe: isKeyframe)
        currentHasBlocks = true
        frameCount += 1
        return completed
    }

    /// Completes the open cluster (if it holds any frame) and returns it; the next frame opens another.
    public mutating func cut() -> [UInt8] {
        guard currentHasBlocks else { return [] }
        var cluster = EBMLBuffer(reservingCapacity: current.count + 12)
        cluster.appendMaster(EBMLID.cluster, current)
        current = EBMLBuffer(reservingCapacity: 64 << 10)
        currentHasBlocks = false
        bodyLength += cluster.count
        return cluster.bytes
    }

    /// True when a frame was appended since the last cluster left the writer.
    public var hasOpenCluster: Bool { currentHasBlocks }

    /// The header and the Cues of a file ending after the clusters handed out so far (frames in an
    /// open cluster are not in it: cut first). `durationMs` as `WebMSegmentWriter.finish` takes it.
    public func closing(durationMs: Double) -> (header: [UInt8], tail: [UInt8]) {
        let tail = cues().bytes
        let header = Self.header(
            width: width, height: height, startWallTimeNanos: startWallTimeNanos, writingApp: writingApp,
            durationMs: max(durationMs, Double(lastTimestampMs) + 1), bodyLength: bodyLength, tailLength: tail.count)
        return (header, tail)
    }

    /// Where the Segment's data begins: after the EBML header, the Segment's ID and its 8-byte size.
    private static var segmentDataStart: Int { WebMSegmentWriter.ebmlHeader().count + 4 + 8 }

    private func cues() -> EBMLBuffer {
        WebMSegmentWriter.cues(cuePoints, clustersAt: headerLength - Self.segmentDataStart, width: 8)
    }

    private static func header(
        width: Int, height: Int, startWallTimeNanos: Int64, writingApp: String, durationMs: Double, bodyLength: Int,
        tailLength: Int
    ) -> [UInt8] {
        let info = WebMSegmentWriter.info(durationMs: durationMs, startWallTimeNanos: startWallTimeNanos, writingApp: writingApp)
        let tracks = WebMSegmentWriter.tracks(width: width, height: height)
        let seekHeadSize = WebMSegmentWriter.seekHead(infoAt: 0, tracksAt: 0, cuesAt: 0, width: 8).count
        var unpadded = segmentDataStart + seekHeadSize + info.count + tracks.count
        // A Void of at least 2 bytes (its ID and a 1-byte size) rounds the header up to 16 bytes.
        var voidLength = (16 - unpadded % 16) % 16
        if voidLength == 1 { voidLength += 16 }
        unpadded += voidLength
        let clustersAt = unpadded - segmentDataStart
        var file = EBMLBuffer(reservingCapacity: unpadded)
        file.appendRaw(WebMSegmentWriter.ebmlHeader().bytes)
        file.appendID(EBMLID.segment)
        file.appendSize(UInt64(clustersAt + bodyLength + tailLength), width: 8)
        file.appendRaw(
            WebMSegmentWriter.seekHead(
                infoAt: seekHeadSize, tracksAt: seekHeadSize + info.count, cuesAt: clustersAt + bodyLength, width: 8
            ).bytes)
        file.appendRaw(info.bytes)
        file.appendRaw(tracks.bytes)
        if voidLength > 0 {
            file.appendID(EBMLID.void)
            file.appendSize(UInt64(voidLength - 2), width: 1)
            file.appendRaw([UInt8](repeating: 0, count: voidLength - 2))
        }
        return file.bytes
    }
}
