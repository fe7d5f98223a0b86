import Testing

@testable import RecorderAgent

struct ActiveMapTests {
    @Test func changedBlocksStayActiveForTheRefinementTail() {
        var map = ActiveMap(width: 100, height: 40, refinementFrames: 2)
        #expect(map.columns == 7 && map.rows == 3)
        #expect(!map.hasActiveBlocks)
        map.markChanged([PixelRect(x: 17, y: 0, width: 16, height: 1)])  // touches columns 1 and 2 of row 0
        for _ in 0..<3 {
            #expect(map.hasActiveBlocks)
            map.advance()
            #expect(map.flags[0] == 0 && map.flags[1] == 1 && map.flags[2] == 1 && map.flags[3] == 0)
            #expect(map.flags[7...].allSatisfy { $0 == 0 })
        }
        #expect(!map.hasActiveBlocks)
        map.advance()
        #expect(map.flags.allSatisfy { $0 == 0 })
    }

    @Test func edgeBlocksOfOddSizesAreCovered() {
        var map = ActiveMap(width: 1366, height: 767, refinementFrames: 0)
        map.markChanged([PixelRect(x: 1360, y: 760, width: 6, height: 7)])
        map.advance()
        #expect(map.flags.last == 1)
        #expect(map.flags.filter { $0 == 1 }.count == 1)
    }
}

struct RegionTests {
    @Test func alignmentGrowsToMacroblocksWithinBounds() {
        let bounds = PixelRect(x: 0, y: 0, width: 1366, height: 767)
        #expect(
            PixelRect(x: 17, y: 3, width: 2, height: 2).aligned(to: 16, within: bounds)
                == PixelRect(x: 16, y: 0, width: 16, height: 16))
        #expect(
            PixelRect(x: 1360, y: 760, width: 6, height: 7).aligned(to: 16, within: bounds)
                == PixelRect(x: 1360, y: 752, width: 6, height: 15))
    }

    @Test func simplifyDropsContainedRegionsAndMergesMany() {
        let big = PixelRect(x: 0, y: 0, width: 64, height: 64)
        let inside = PixelRect(x: 16, y: 16, width: 16, height: 16)
        #expect(CapturePipeline.simplify([inside, big]) == [big])
        let many = (0..<20).map { PixelRect(x: $0 * 32, y: 0, width: 16, height: 16) }
        #expect(CapturePipeline.simplify(many) == [PixelRect(x: 0, y: 0, width: 19 * 32 + 16, height: 16)])
    }
}

struct ZeroPageReclaimerTests {
    typealias Mapping = ZeroPageReclaimer.Mapping

    @Test func newRangesAreWhatNoOldMappingCovered() {
        let old = [Mapping(start: 0x1000, end: 0x3000), Mapping(start: 0x5000, end: 0x6000)]
        // A mapping merged with old neighbours on both sides: only the middle is new.
        #expect(
            ZeroPageReclaimer.uncovered(Mapping(start: 0x1000, end: 0x6000), by: old) == [
                Mapping(start: 0x3000, end: 0x5000)
            ])
        #expect(ZeroPageReclaimer.uncovered(Mapping(start: 0x1000, end: 0x3000), by: old).isEmpty)
        #expect(
            ZeroPageReclaimer.uncovered(Mapping(start: 0x7000, end: 0x8000), by: old) == [
                Mapping(start: 0x7000, end: 0x8000)
            ])
    }

    @Test func tokenBufferSizeMatchesLibvpx() {
        // 120 × 68 macroblocks × 24 blocks × 16 tokens × 16 bytes.
        #expect(ZeroPageReclaimer.tokenBufferSize(width: 1920, height: 1080) == 50_135_040)
    }
}
