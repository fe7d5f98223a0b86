import Logging
import RecorderCore

/// What the recorder found when it opened the display; printed by the CLI and logged.
public struct CaptureDescription: Sendable {
    public let display: String
    public let area: PixelRect
    public let method: String
    public let damageTracking: Bool
    public let cursor: Bool
}

/// Counters for `status` and the benchmarks.
public struct RecordingStatistics: Sendable {
    public var ticks = 0
    public var framesEncoded = 0
    public var keyframes = 0
    public var ticksSkippedUnchanged = 0
    public var ticksMissedLate = 0
    public var segments = 0
}

/// The capture → encode → segment loop. Runs on one dedicated thread: every call into Xlib and libvpx
/// blocks, and none of them may run on Swift's cooperative pool.
final class RecordingLoop {
    private let settings: RecordingSettings
    private let logger: Logger
    private let display: X11Display
    private let damage: DamageTracker?
    private let cursor: CursorOverlay?
    private var pipeline: CapturePipeline
    private let journaling: SegmentJournaling?
    private var segment: SegmentInProgress?
    private var segmentStartMono: Int64 = 0
    private var lastCheckpointMono: Int64 = 0
    private var lastKeyframeMono: Int64 = 0
    private var lastEncodedMono: Int64 = 0
    private var recordingStartMono: Int64 = 0
    private var nextSequence = 1
    private(set) var statistics = RecordingStatistics()
    /// The legs the segments being recorded belong to (`RecorderCommand.cut`).
    private var legs: [CallLeg] = []
    /// Legs on hold now, since when (wall ns); a hold spanning a cut appears in both segments.
    private var heldSince: [CallLeg: Int64] = [:]
    /// Holds that ended during the segment in progress.
    private var endedHolds: [(leg: CallLeg, from: Int64, to: Int64)] = []
    /// Set while a PCI pause lasts: no tick captures anything.
    private var pausedSince: (wallNanos: Int64, reason: String)?
    /// The pause that ended before the next segment, for its manifest.
    private var pendingGaps: [SegmentManifest.PauseGap] = []

    init(
        displayName: String?, settings: RecordingSettings, journaling: SegmentJournaling? = nil, logger: Logger,
        legs: [CallLeg] = []
    ) throws {
        self.legs = legs
        self.journaling = journaling
        self.settings = settings
        self.logger = logger
        display = try X11Display(name: displayName)
        let area = try display.captureArea(monitor: settings.monitor)
        damage = DamageTracker(display: display)
        cursor = settings.drawCursor ? CursorOverlay(display: display) : nil
        pipeline = try CapturePipeline(
            display: display, area: area, settings: settings, cursor: cursor, isFirst: true, logger: logger)
        display.watchGeometryChanges()
    }

    var description: CaptureDescription {
        CaptureDescription(
            display: display.name, area: pipeline.area, method: pipeline.grabber.method, damageTracking: damage != nil,
            cursor: cursor != nil)
    }

    /// Records until `shouldStop` says so or `deadline` (monotonic ns) passes, handing each finished
    /// segment to `deliver`. A failure still delivers the segment in progress before it is thrown.
    func run(
        deadline: Int64?, shouldStop: () -> Bool, commands: () -> [RecorderCommand] = { [] },
        deliver: (RecordedSegment) -> Void
    ) throws {
        let interval = Int64(1_000_000_000 / settings.framesPerSecond)
        let segmentLength = Int64(settings.segmentSeconds * 1_000_000_000)
        let keyframeInterval = Int64(settings.keyframeIntervalSeconds * 1_000_000_000)
        recordingStartMono = MonotonicClock.now()
        var nextTick = recordingStartMono
        var endTime = recordingStartMono

        do {
            while true {
                while MonotonicClock.now() < nextTick && !shouldStop() {
                    // Commands are taken between frames too: a pause must not wait for the next frame.
                    apply(commands(), deliver: deliver)
                    // Short naps keep a stop request answered within 20 ms even at 1 fps.
                    MonotonicClock.sleep(until: min(nextTick, MonotonicClock.now() + 20_000_000))
                }
                apply(commands(), deliver: deliver)
                // Timing decisions use the scheduled tick (wake-up jitter must not move a segment cut by a frame).
                let tick = nextTick
                if shouldStop() {
                    endTime = MonotonicClock.now()
                    break
                }
                if let deadline, tick >= deadline {
                    endTime = deadline
                    break
                }
                if pausedSince == nil {
                    try captureTick(
                        at: tick, segmentLength: segmentLength, keyframeInterval: keyframeInterval, deliver: deliver)
                    try checkpointIfDue(at: tick)
                }
                nextTick += interval
                let now = MonotonicClock.now()
                while nextTick <= now {
                    nextTick += interval
                    statistics.ticksMissedLate += 1
                }
            }
        } catch {
            finishSegment(at: MonotonicClock.now(), reason: .failed, deliver: deliver)
            throw error
        }
        finishSegment(at: endTime, reason: .stopped, deliver: deliver)
    }

    private func captureTick(
        at tick: Int64, segmentLength: Int64, keyframeInterval: Int64, deliver: (RecordedSegment) -> Void
    ) throws {
        statistics.ticks += 1
        guard !display.isConnectionLost else { throw CaptureError.displayLost }
        if display.drainEvents() {
            try handleGeometryChange(at: tick, deliver: deliver)
        }
        var changes = damage?.takeChanges(within: pipeline.area) ?? [fullArea]
        changes += cursor?.refresh(area: pipeline.area) ?? []

        if segment != nil && tick - segmentStartMono >= segmentLength {
            finishSegment(at: tick, reason: .lengthLimit, deliver: deliver)
        }
        let startsSegment = segment == nil
        let keyframe = startsSegment || (keyframeInterval > 0 && tick - lastKeyframeMono >= keyframeInterval)

        let updated: Bool
        do {
            updated = try pipeline.update(changes: changes, keyframe: keyframe)
        } catch let error as CaptureError where error.isGrabFailure {
            // The screen may have changed size after this tick's event check (RandR events arrive a
            // moment later): a grab of the old area then fails with BadMatch. A new geometry is a new
            // segment, not a failed recording; anything else still fails.
            let area = try display.captureArea(monitor: settings.monitor)
            guard area != pipeline.area else { throw error }
            try handleGeometryChange(at: tick, deliver: deliver)
            return
        }
        guard updated else {
            statistics.ticksSkippedUnchanged += 1
            return
        }
        if startsSegment {
            try beginSegment(at: tick)
        }
        let ptsMs = (tick - recordingStartMono) / 1_000_000
        let durationMs = Int((tick - (lastEncodedMono == 0 ? tick : lastEncodedMono)) / 1_000_000)
        for frame in try pipeline.encode(ptsMs: ptsMs, durationMs: max(durationMs, 1), keyframe: keyframe) {
            let segmentPts = (tick - segmentStartMono) / 1_000_000
            try segment?.append(frame: frame.bytes, timestampMs: segmentPts, isKeyframe: frame.isKeyframe)
            statistics.framesEncoded += 1
            if frame.isKeyframe {
                statistics.keyframes += 1
                lastKeyframeMono = tick
            }
        }
        lastEncodedMono = tick
    }

    private var fullArea: PixelRect { PixelRect(x: 0, y: 0, width: pipeline.area.width, height: pipeline.area.height) }

    /// Commands from the call state machine, applied between frames on the recording thread.
    private func apply(_ commands: [RecorderCommand], deliver: (RecordedSegment) -> Void) {
        for command in commands {
            let now = MonotonicClock.now()
            switch command.action {
            case .cut(let next):
                finishSegment(at: now, reason: .callBoundary, deliver: deliver)
                legs = next
                heldSince = heldSince.filter { next.contains($0.key) }
            case .hold(let leg, let held):
                let wall = MonotonicClock.wallTime(atMonotonic: now)
                if held {
                    if heldSince[leg] == nil { heldSince[leg] = wall }
                } else if let since = heldSince.removeValue(forKey: leg) {
                    endedHolds.append((leg, since, wall))
                }
            case .pause(let reason):
                guard pausedSince == nil else { break }
                // The segment ends at the pause: its last frame was captured before this instant.
                finishSegment(at: now, reason: .paused, deliver: deliver)
                pausedSince = (MonotonicClock.wallTime(atMonotonic: now), reason)
                logger.notice("recording paused", metadata: ["reason": "\(reason)"])
            case .resume:
                guard let paused = pausedSince else { break }
                pausedSince = nil
                let resumedAt = MonotonicClock.wallTime(atMonotonic: now)
                pendingGaps.append(
                    SegmentManifest.PauseGap(
                        from: SegmentManifest.timestamp(unixNanos: paused.wallNanos),
                        to: SegmentManifest.timestamp(unixNanos: resumedAt), reason: paused.reason))
                logger.notice("recording resumed")
            }
            command.applied()
        }
    }

    private func beginSegment(at tick: Int64) throws {
        let start = MonotonicClock.wallTime(atMonotonic: tick)
        if let journaling {
            let metadata = JournalMetadata(
                sequence: nextSequence, startWallTimeNanos: start, width: pipeline.area.width,
                height: pipeline.area.height, legs: legs, pauseGaps: pendingGaps, monitor: settings.monitor,
                lostAtMostMs: Int(journaling.syncSeconds * 1000))
            segment = try JournaledSegment(metadata: metadata, journaling: journaling, logger: logger)
        } else {
            segment = PlainSegment(width: pipeline.area.width, height: pipeline.area.height, startWallTimeNanos: start)
        }
        segmentStartMono = tick
        lastCheckpointMono = tick
    }

    /// A checkpoint of the segment in progress every `checkpointSeconds` of recording (a sealed
    /// recording's journal; nothing for a plain one).
    private func checkpointIfDue(at tick: Int64) throws {
        guard let journaling, let segment, segment.frameCount > 0,
            tick - lastCheckpointMono >= Int64(journaling.checkpointSeconds * 1_000_000_000)
        else { return }
        try segment.checkpoint(
            durationMs: Double(tick - segmentStartMono) / 1_000_000, progress: progress(of: segment, at: tick, reason: nil))
        lastCheckpointMono = tick
    }

    /// What the manifest of `segment` ending at `end` (monotonic ns) would say.
    private func progress(of segment: SegmentInProgress, at end: Int64, reason: RecordedSegment.EndReason?) -> JournalProgress {
        JournalProgress(
            durationMs: Double(end - segmentStartMono) / 1_000_000, frameCount: segment.frameCount,
            lastFrameOffsetMs: segment.lastTimestampMs,
            holds: holds(from: segment.startWallTimeNanos, to: MonotonicClock.wallTime(atMonotonic: end)),
            endReason: reason?.rawValue)
    }

    private func finishSegment(at end: Int64, reason: RecordedSegment.EndReason, deliver: (RecordedSegment) -> Void) {
        guard let writer = segment, writer.frameCount > 0 else {
            segment = nil
            return
        }
        let durationMs = Double(end - segmentStartMono) / 1_000_000
        let content: RecordedSegment.Content
        do {
            content = try writer.finish(durationMs: durationMs, progress: progress(of: writer, at: end, reason: reason))
        } catch {
            // Sealing is in memory and cannot fail but by a fault of ours; the journal (if any) stays
            // for recovery at the next start.
            logger.error("cannot finish the segment; its journal is kept", metadata: ["error": "\(error)"])
            segment = nil
            return
        }
        let finished = RecordedSegment(
            sequence: nextSequence, content: content, startWallTimeNanos: writer.startWallTimeNanos,
            durationMs: durationMs, lastFrameOffsetMs: writer.lastTimestampMs, width: writer.width, height: writer.height,
            frameCount: writer.frameCount, endReason: reason, legs: legs,
            holds: holds(from: writer.startWallTimeNanos, to: MonotonicClock.wallTime(atMonotonic: end)),
            pauseGaps: pendingGaps, monitor: settings.monitor)
        pendingGaps = []
        endedHolds = []
        segment = nil
        nextSequence += 1
        statistics.segments += 1
        logger.info(
            "segment finished",
            metadata: [
                "sequence": "\(finished.sequence)", "frames": "\(finished.frameCount)",
                "duration_ms": "\(Int(durationMs))", "bytes": "\(content.byteCount)", "reason": "\(reason.rawValue)",
            ])
        deliver(finished)
    }

    /// The holds within a segment spanning `start`...`end` (wall ns): those that ended in it and those
    /// still going on, each clipped to the segment.
    private func holds(from start: Int64, to end: Int64) -> [HoldInterval] {
        let spans = endedHolds + heldSince.sorted { $0.key < $1.key }.map { ($0.key, $0.value, end) }
        return spans.compactMap { leg, from, to in
            let clipped = (max(from, start), min(to, end))
            guard clipped.0 < clipped.1 else { return nil }
            return HoldInterval(
                leg: leg, from: SegmentManifest.timestamp(unixNanos: clipped.0),
                to: SegmentManifest.timestamp(unixNanos: clipped.1))
        }
    }

    /// A new screen size (or moved monitor) ends the current segment; the next starts at the new size.
    private func handleGeometryChange(at tick: Int64, deliver: (RecordedSegment) -> Void) throws {
        let area: PixelRect
        do {
            area = try display.captureArea(monitor: settings.monitor)
        } catch {
            logger.warning("monitor disappeared; recording the whole screen", metadata: ["error": "\(error)"])
            area = try display.captureArea(monitor: nil)
        }
        guard area != pipeline.area else { return }
        logger.info("screen geometry changed", metadata: ["from": "\(pipeline.area)", "to": "\(area)"])
        finishSegment(at: tick, reason: .resolutionChange, deliver: deliver)
        pipeline = try CapturePipeline(
            display: display, area: area, settings: settings, cursor: cursor, isFirst: false, logger: logger)
    }
}
