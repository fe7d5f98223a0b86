/// Builds one self-contained, seekable WebM file (one VP8 video track) in memory.
///
/// Layout: EBML header, then a Segment of known size holding SeekHead, Info (with `Duration` and
/// `DateUTC`), Tracks, Cues and the Clusters. Cues come before the Clusters so that a player reading
/// over HTTP gets the seek index with the first bytes; positions in Cues and SeekHead are written with
/// a fixed width so the index size never depends on the offsets it holds.
public struct WebMSegmentWriter: Sendable {
    public let width: Int
    public let height: Int
    /// Wall time of the first frame (timestamp 0), nanoseconds since the Unix epoch.
    public let startWallTimeNanos: Int64
    public let writingApp: String

    private var clusters = EBMLBuffer()
    private var currentCluster = EBMLBuffer()
    private var currentClusterTimestamp: Int64 = 0
    private var currentClusterHasBlocks = false
    private var cuePoints: [(timeMs: Int64, clusterOffset: Int)] = []
    public private(set) var lastTimestampMs: Int64 = -1
    public private(set) var frameCount = 0
    public private(set) var keyframeCount = 0

    /// A cluster must keep its blocks within an Int16 of milliseconds from its timestamp.
    static let maxClusterSpanMs: Int64 = 30_000

    public init(width: Int, height: Int, startWallTimeNanos: Int64, writingApp: String = "recorder-agent") {
        precondition(width > 0 && height > 0, "video size must be positive")
        self.width = width
        self.height = height
        self.startWallTimeNanos = startWallTimeNanos
        self.writingApp = writingApp
        self.clusters = EBMLBuffer(reservingCapacity: 1 << 20)
    }

    public var isEmpty: Bool { frameCount == 0 }

    /// Appends one encoded VP8 frame. Timestamps are milliseconds from the first frame and must increase.
    public mutating func append(frame: [UInt8], timestampMs: Int64, isKeyframe: Bool) {
        precondition(timestampMs > lastTimestampMs, "frame timestamps must increase")
        precondition(frameCount > 0 || isKeyframe, "a segment must start with a keyframe")
        lastTimestampMs = timestampMs

        let startsNewCluster =
            !currentClusterHasBlocks || isKeyframe
            || timestampMs - currentClusterTimestamp > WebMSegmentWriter.maxClusterSpanMs
        if startsNewCluster {
            closeCluster()
            currentClusterTimestamp = timestampMs
            currentCluster.appendUnsigned(EBMLID.clusterTimestamp, UInt64(timestampMs))
            if isKeyframe {
                cuePoints.append((timestampMs, clusters.count))
            }
        }

        Self.appendSimpleBlock(
            to: &currentCluster, frame: frame, relativeMs: Int16(timestampMs - currentClusterTimestamp), isKeyframe: isKeyframe)
        currentClusterHasBlocks = true
        frameCount += 1
        if isKeyframe { keyframeCount += 1 }
    }

    private mutating func closeCluster() {
        guard currentClusterHasBlocks else { return }
        clusters.appendMaster(EBMLID.cluster, currentCluster)
        currentCluster = EBMLBuffer(reservingCapacity: 256 << 10)
        currentClusterHasBlocks = false
    }

    /// Finishes the file. `durationMs` is the segment's length on the timeline (first frame to the
    /// moment the segment was cut), so consecutive segments tile the recording without gaps.
    public mutating func finish(durationMs: Double) -> [UInt8] {
        precondition(!isEmpty, "an empty segment cannot be written")
        closeCluster()

        let info = makeInfo(durationMs: max(durationMs, Double(lastTimestampMs) + 1))
        let moved = clusters
        clusters = EBMLBuffer()
        return Self.file(info: info, tracks: makeTracks(), cuePoints: cuePoints, clusters: moved)
    }

    /// The whole file: EBML header, then a Segment of known size holding SeekHead, Info, Tracks, Cues
    /// and the Clusters. Sizes of SeekHead and Cues do not depend on the positions they carry
    /// (fixed-width fields), so the layout is computed once. One buffer: the clusters are copied into
    /// it once (an hour of a call's screen held twice at most). Shared with `WebMCallWriter`.
    static func file(info: EBMLBuffer, tracks: EBMLBuffer, cuePoints: [(timeMs: Int64, clusterOffset: Int)], clusters: EBMLBuffer)
        -> [UInt8]
    {
        let width = 8
        let seekHeadSize = seekHead(infoAt: 0, tracksAt: 0, cuesAt: 0, width: width).count
        let cuesSize = cues(cuePoints, clustersAt: 0, width: width).count
        let infoAt = seekHeadSize
        let tracksAt = infoAt + info.count
        let cuesAt = tracksAt + tracks.count
        let clustersAt = cuesAt + cuesSize
        let bodySize = clustersAt + clusters.count
        var file = EBMLBuffer(reservingCapacity: bodySize + 64)
        file.appendRaw(ebmlHeader().bytes)
        file.appendID(EBMLID.segment)
        file.appendSize(UInt64(bodySize), width: 8)
        file.appendRaw(seekHead(infoAt: infoAt, tracksAt: tracksAt, cuesAt: cuesAt, width: width).bytes)
        file.appendRaw(info.bytes)
        file.appendRaw(tracks.bytes)
        file.appendRaw(cues(cuePoints, clustersAt: clustersAt, width: width).bytes)
        file.appendRaw(clusters.bytes)
        return file.bytes
    }

    static func ebmlHeader() -> EBMLBuffer {
        var header = EBMLBuffer()
        header.appendMaster(EBMLID.ebml) { ebml in
            ebml.appendUnsigned(EBMLID.ebmlVersion, 1)
            ebml.appendUnsigned(EBMLID.ebmlReadVersion, 1)
            ebml.appendUnsigned(EBMLID.ebmlMaxIDLength, 4)
            ebml.appendUnsigned(EBMLID.ebmlMaxSizeLength, 8)
            ebml.appendString(EBMLID.docType, "webm")
            ebml.appendUnsigned(EBMLID.docTypeVersion, 4)
            ebml.appendUnsigned(EBMLID.docTypeReadVersion, 2)
        }
        return header
    }

    private func makeInfo(durationMs: Double) -> EBMLBuffer {
        Self.info(durationMs: durationMs, startWallTimeNanos: startWallTimeNanos, writingApp: writingApp)
    }

    private func makeTracks() -> EBMLBuffer { Self.tracks(width: width, height: height) }

    /// Info: millisecond timestamps, the Duration (always 8 bytes), DateUTC and the app. Its size
    /// depends on none of its values. Shared with `ProgressiveWebMWriter`.
    static func info(durationMs: Double, startWallTimeNanos: Int64, writingApp: String) -> EBMLBuffer {
        var info = EBMLBuffer()
        info.appendMaster(EBMLID.info) { body in
            body.appendUnsigned(EBMLID.timestampScale, 1_000_000)
            body.appendFloat(EBMLID.duration, durationMs)
            body.appendSigned(EBMLID.dateUTC, WebMTime.matroskaDate(fromUnixNanos: startWallTimeNanos))
            body.appendString(EBMLID.muxingApp, writingApp)
            body.appendString(EBMLID.writingApp, writingApp)
        }
        return info
    }

    static func tracks(width: Int, height: Int) -> EBMLBuffer {
        var tracks = EBMLBuffer()
        tracks.appendMaster(EBMLID.tracks) { body in appendVideoTrack(to: &body, width: width, height: height) }
        return tracks
    }

    /// One frame of track 1, `relativeMs` from its cluster's timestamp. Shared with `ProgressiveWebMWriter`.
    static func appendSimpleBlock(to cluster: inout EBMLBuffer, frame: [UInt8], relativeMs: Int16, isKeyframe: Bool) {
        cluster.appendID(EBMLID.simpleBlock)
        cluster.appendSize(UInt64(frame.count + 4))
        cluster.appendRaw([
            0x81,  // track number 1 as a vint
            UInt8(truncatingIfNeeded: UInt16(bitPattern: relativeMs) >> 8),
            UInt8(truncatingIfNeeded: UInt16(bitPattern: relativeMs)),
            isKeyframe ? 0x80 : 0x00,
        ])
        cluster.appendRaw(frame)
    }

    /// Track 1: the screen, VP8, at its size. Shared with `WebMCallWriter`.
    static func appendVideoTrack(to body: inout EBMLBuffer, width: Int, height: Int) {
        body.appendMaster(EBMLID.trackEntry) { entry in
            entry.appendUnsigned(EBMLID.trackNumber, 1)
            entry.appendUnsigned(EBMLID.trackUID, 1)
            entry.appendUnsigned(EBMLID.trackType, 1)  // video
            entry.appendUnsigned(EBMLID.flagLacing, 0)
            entry.appendString(EBMLID.codecID, "V_VP8")
            entry.appendMaster(EBMLID.video) { video in
                video.appendUnsigned(EBMLID.pixelWidth, UInt64(width))
                video.appendUnsigned(EBMLID.pixelHeight, UInt64(height))
            }
        }
    }

    /// SeekHead for Info, Tracks and Cues, its positions `width` bytes wide (so its size never depends
    /// on them). Shared with `WebMCallWriter`.
    static func seekHead(infoAt: Int, tracksAt: Int, cuesAt: Int, width: Int) -> EBMLBuffer {
        var seekHead = EBMLBuffer()
        seekHead.appendMaster(EBMLID.seekHead) { body in
            for (id, position) in [(EBMLID.info, infoAt), (EBMLID.tracks, tracksAt), (EBMLID.cues, cuesAt)] {
                body.appendMaster(EBMLID.seek) { seek in
                    var idBytes = EBMLBuffer()
                    idBytes.appendID(id)
                    seek.appendBinary(EBMLID.seekID, idBytes.bytes)
                    seek.appendUnsigned(EBMLID.seekPosition, UInt64(position), width: width)
                }
            }
        }
        return seekHead
    }

    /// Cues on track 1's keyframes: each point's cluster offset counted from the first cluster.
    static func cues(_ points: [(timeMs: Int64, clusterOffset: Int)], clustersAt: Int, width: Int) -> EBMLBuffer {
        var cues = EBMLBuffer()
        cues.appendMaster(EBMLID.cues) { body in
            for point in points {
                body.appendMaster(EBMLID.cuePoint) { cue in
                    cue.appendUnsigned(EBMLID.cueTime, UInt64(point.timeMs))
                    cue.appendMaster(EBMLID.cueTrackPositions) { positions in
                        positions.appendUnsigned(EBMLID.cueTrack, 1)
                        positions.appendUnsigned(
                            EBMLID.cueClusterPosition, UInt64(clustersAt + point.clusterOffset), width: width)
                    }
                }
            }
        }
        return cues
    }
}
