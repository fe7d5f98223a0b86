import Foundation
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
        /// Made from its journal after a crash (`JournalRecovery`); `recovery` says how much was lost.
        case recovered
    }

    /// The segment's bytes: the WebM itself, or already sealed as it was recorded.
    public enum Content: Sendable {
        /// A plain WebM: written as it is without recipients, sealed by the spool with them.
        case plain([UInt8])
        /// Sealed (`JournaledSegment`); `journal` is removed once the spool holds the sealed file.
        case sealed([UInt8], journal: URL?)

        public var byteCount: Int {
            switch self {
            case .plain(let bytes), .sealed(let bytes, _): bytes.count
            }
        }
    }

    /// 1 for the first segment of a recording, then consecutive.
    public let sequence: Int
    public let content: Content
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
    /// For a segment recovered from its journal: until when it holds the recording, what was lost.
    public var recovery: SegmentManifest.Recovery?

    /// The WebM of a plain recording (nil for a sealed one).
    public var plainBytes: [UInt8]? {
        if case .plain(let bytes) = content { return bytes }
        return nil
    }
}
