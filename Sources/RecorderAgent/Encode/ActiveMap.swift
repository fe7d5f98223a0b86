/// Which 16×16 macroblocks the encoder should look at in the next frame.
///
/// Changed blocks stay active for `refinementFrames` more frames: libvpx then spends the bits it saved
/// to sharpen freshly changed areas (text drawn at a high quantizer would otherwise stay blurry).
struct ActiveMap {
    let columns: Int
    let rows: Int
    let refinementFrames: UInt8
    /// Frames each block stays active for; 0 = inactive.
    private var remaining: [UInt8]
    /// The map handed to libvpx: 1 = encode, 0 = copy from the previous frame.
    private(set) var flags: [UInt8]

    init(width: Int, height: Int, refinementFrames: UInt8) {
        columns = (width + 15) / 16
        rows = (height + 15) / 16
        self.refinementFrames = refinementFrames
        remaining = Array(repeating: 0, count: columns * rows)
        flags = remaining
    }

    /// Marks the blocks under `regions` (picture coordinates) as changed in this frame.
    mutating func markChanged(_ regions: [PixelRect]) {
        for region in regions where !region.isEmpty {
            let firstRow = max(0, region.y / 16)
            let lastRow = min(rows - 1, (region.maxY - 1) / 16)
            let firstColumn = max(0, region.x / 16)
            let lastColumn = min(columns - 1, (region.maxX - 1) / 16)
            guard firstRow <= lastRow, firstColumn <= lastColumn else { continue }
            for row in firstRow...lastRow {
                for column in firstColumn...lastColumn {
                    remaining[row * columns + column] = refinementFrames + 1
                }
            }
        }
    }

    /// True when some block needs encoding this frame.
    var hasActiveBlocks: Bool { remaining.contains { $0 > 0 } }

    /// Builds this frame's flags and ages every block by one frame.
    mutating func advance() {
        for index in remaining.indices {
            flags[index] = remaining[index] > 0 ? 1 : 0
            if remaining[index] > 0 { remaining[index] -= 1 }
        }
    }

    /// Everything active (a keyframe encodes the whole picture).
    mutating func markAll() {
        for index in remaining.indices { remaining[index] = refinementFrames + 1 }
    }
}
