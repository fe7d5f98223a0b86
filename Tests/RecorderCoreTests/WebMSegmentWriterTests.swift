import Testing

@testable import RecorderCore

struct WebMSegmentWriterTests {
    /// 2026-11-23T12:00:00.250Z in Unix nanoseconds.
    let start: Int64 = 1_795_435_200_250_000_000

    func makeFile(frames: [(Int64, Bool)], durationMs: Double) -> [UInt8] {
        var writer = WebMSegmentWriter(width: 1366, height: 767, startWallTimeNanos: start)
        for (index, (time, key)) in frames.enumerated() {
            writer.append(
                frame: [UInt8](repeating: UInt8(index), count: 100 + index), timestampMs: time, isKeyframe: key)
        }
        return writer.finish(durationMs: durationMs)
    }

    @Test func roundTripsThroughOurParser() throws {
        let bytes = makeFile(
            frames: [(0, true), (200, false), (400, false), (5000, true), (5200, false)], durationMs: 6000)
        let summary = try WebMFileSummary.parse(bytes)
        #expect(summary.docType == "webm")
        #expect(summary.codecID == "V_VP8")
        #expect(summary.width == 1366 && summary.height == 767)
        #expect(summary.durationMs == 6000)
        #expect(summary.startWallTimeNanos == start)
        #expect(summary.blocks.map(\.timestampMs) == [0, 200, 400, 5000, 5200])
        #expect(summary.blocks.map(\.isKeyframe) == [true, false, false, true, false])
        #expect(summary.blocks.map(\.size) == [100, 101, 102, 103, 104])
        #expect(summary.cuePoints.map(\.timeMs) == [0, 5000])
    }

    @Test func dateUTCUsesTheMatroskaEpoch() throws {
        let bytes = makeFile(frames: [(0, true)], durationMs: 200)
        // DateUTC counts from 2001-01-01: find its element and read it raw.
        let reader = EBMLReader(bytes: bytes)
        let segment = try reader.children(in: 0..<bytes.count)[1]
        let info = try reader.children(in: segment.dataOffset..<segment.end).first { $0.id == EBMLID.info }!
        let date = try reader.children(in: info.dataOffset..<info.end).first { $0.id == EBMLID.dateUTC }!
        #expect(try reader.signed(date) == start - 978_307_200 * 1_000_000_000)
    }

    @Test func longGapsWithoutKeyframesOpenNewClusters() throws {
        // 70 s between frames exceeds a SimpleBlock's signed 16-bit millisecond offset.
        let bytes = makeFile(frames: [(0, true), (35_000, false), (70_000, false)], durationMs: 71_000)
        let summary = try WebMFileSummary.parse(bytes)
        #expect(summary.clusters.count == 3)
        #expect(summary.blocks.map(\.timestampMs) == [0, 35_000, 70_000])
        #expect(summary.cuePoints.count == 1, "only keyframe clusters are cue points")
    }

    @Test func cuesPointAtClusters() throws {
        let bytes = makeFile(frames: [(0, true), (100, false), (2000, true), (4000, true)], durationMs: 4100)
        let summary = try WebMFileSummary.parse(bytes)
        let clusterPositions = summary.clusters.map(\.position)
        for cue in summary.cuePoints {
            #expect(clusterPositions.contains(cue.clusterPosition))
        }
        // And the bytes at a cue position are a Cluster ID (segment data starts after 12 + header bytes).
        let header = WebMSegmentWriter.ebmlHeader().count + 12
        let position = header + summary.cuePoints[1].clusterPosition
        #expect(Array(bytes[position..<position + 4]) == [0x1F, 0x43, 0xB6, 0x75])
    }

    @Test func parserRejectsBrokenFiles() {
        let bytes = makeFile(frames: [(0, true), (200, false)], durationMs: 400)
        #expect(throws: (any Error).self) { try WebMFileSummary.parse(Array(bytes.prefix(bytes.count - 10))) }
        #expect(throws: (any Error).self) { try WebMFileSummary.parse([0x1A, 0x45, 0xDF, 0xA3]) }
        #expect(throws: (any Error).self) { try WebMFileSummary.parse([]) }
    }
}
