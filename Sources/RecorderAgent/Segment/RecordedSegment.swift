import RecorderCore

/// One finished WebM segment, still in memory (later stages seal it before it touches disk).
public struct RecordedSegment: Sendable {
    /// Why a segment ended; the next one (if any) starts at the same instant.
    public enum EndReason: String, Sendable, Codable {
        case lengthLimit = "length-limit"
        case resolutionChange = "resolution-change"
        case stopped
        case failed
        /// The legs it belongs to changed (a call started, was transferred, ended).
        case callBoundary = "call-boundary"
        /// A PCI pause began: nothing until the resume is captured.
        case paused
    }

    /// 1 for the first segment of a recording, then consecutive.
    public let sequence: Int
    public let bytes: [UInt8]
    /// Wall time of the first frame, nanoseconds since the Unix epoch (also the file's DateUTC).
    public let startWallTimeNanos: Int64
    /// Length on the timeline: first frame to the moment the segment was cut.
    public let durationMs: Double
    /// Timestamp of the last frame, milliseconds after the first.
    public let lastFrameOffsetMs: Int64
    public let width: Int
    public let height: Int
    public let frameCount: Int
    public let endReason: EndReason
    /// The legs the segment was recorded for; empty for a recording without calls.
    public var legs: [CallLeg] = []
    /// When those legs were on hold within the segment.
    public var holds: [HoldInterval] = []
    /// The calls (interaction ids) the segment belongs to, each once: its manifest's `callIds`.
    public var callIds: [String] {
        var seen: [String] = []
        for leg in legs where !seen.contains(leg.interactionId) { seen.append(leg.interactionId) }
        return seen
    }
    /// A pause that ended just before this segment began (the gap between it and the one before).
    public var pauseGaps: [SegmentManifest.PauseGap] = []
    /// The monitor recorded, nil for the whole screen.
    public var monitor: String?
}
