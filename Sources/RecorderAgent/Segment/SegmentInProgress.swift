import Foundation
import RecorderCore

/// The segment being recorded, as the recording loop sees it: frames go in, a checkpoint is taken
/// now and then, and the finished segment comes out. A sealed recording's (`JournaledSegment`) is
/// sealed and journaled as it goes; a plain one (`PlainSegment`, debugging) stays in memory.
protocol SegmentInProgress: AnyObject {
    var width: Int { get }
    var height: Int { get }
    var startWallTimeNanos: Int64 { get }
    var frameCount: Int { get }
    /// The last frame's timestamp in ms from the first.
    var lastTimestampMs: Int64 { get }

    func append(frame: [UInt8], timestampMs: Int64, isKeyframe: Bool) throws
    /// Makes what was recorded up to `durationMs` survive a crash (a sealed recording's journal).
    func checkpoint(durationMs: Double, progress: JournalProgress) throws
    func finish(durationMs: Double, progress: JournalProgress) throws -> RecordedSegment.Content
}

/// A plain recording's segment: the WebM in memory (`WebMSegmentWriter`), nothing journaled, since
/// journaling plaintext would put the screen on disk.
final class PlainSegment: SegmentInProgress {
    private var writer: WebMSegmentWriter

    init(width: Int, height: Int, startWallTimeNanos: Int64) {
        writer = WebMSegmentWriter(width: width, height: height, startWallTimeNanos: startWallTimeNanos)
    }

    var width: Int { writer.width }
    var height: Int { writer.height }
    var startWallTimeNanos: Int64 { writer.startWallTimeNanos }
    var frameCount: Int { writer.frameCount }
    var lastTimestampMs: Int64 { writer.lastTimestampMs }

    func append(frame: [UInt8], timestampMs: Int64, isKeyframe: Bool) throws {
        writer.append(frame: frame, timestampMs: timestampMs, isKeyframe: isKeyframe)
    }

    func checkpoint(durationMs: Double, progress: JournalProgress) throws {}

    func finish(durationMs: Double, progress: JournalProgress) throws -> RecordedSegment.Content {
        .plain(writer.finish(durationMs: durationMs))
    }
}
