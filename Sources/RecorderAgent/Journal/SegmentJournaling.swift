import Foundation
import RecorderCore

/// How the segment in progress of a sealed recording is journaled (`JournaledSegment`): for whom it
/// is sealed, where its journal lives, and how often the journal is made durable.
///
/// A checkpoint (the clusters so far and a closing, `SegmentJournal`) is written every
/// `checkpointSeconds`; it reaches the page cache at once, so a killed agent loses at most that much.
/// `syncSeconds` bounds what a power loss takes: the journal is fdatasync'd at every
/// `checkpointsPerSync`-th checkpoint (counted in recording time, so the scheduler's jitter cannot
/// stretch the interval by a checkpoint).
public struct SegmentJournaling: Sendable {
    public let recipients: [SealingRecipient]
    public let directory: URL
    public let checkpointSeconds: Double
    public let syncSeconds: Double

    public init(recipients: [SealingRecipient], directory: URL, checkpointSeconds: Double = 1, syncSeconds: Double = 2) {
        self.recipients = recipients
        self.directory = directory
        self.checkpointSeconds = checkpointSeconds
        self.syncSeconds = max(syncSeconds, checkpointSeconds)
    }

    public var checkpointsPerSync: Int { max(1, Int((syncSeconds / checkpointSeconds + 1e-9).rounded(.down))) }

    /// The journal directory beside the agent's identity and chain head (it survives a restart).
    public static func directory(stateDirectory: String) -> URL {
        URL(fileURLWithPath: stateDirectory, isDirectory: true).appendingPathComponent("journal", isDirectory: true)
    }

    /// Journals recovery could not turn into a segment wait here for a person (never deleted).
    public static func asideDirectory(of directory: URL) -> URL {
        directory.appendingPathComponent("unrecoverable", isDirectory: true)
    }

    static let fileSuffix = ".journal"
}

/// The journal's start record's metadata: what the segment's manifest says that is known when it
/// begins. JSON, inside the journal (0600, beside the identity key); no screen content.
struct JournalMetadata: Codable, Equatable {
    var version = 1
    var sequence: Int
    var startWallTimeNanos: Int64
    var width: Int
    var height: Int
    var legs: [CallLeg]
    var pauseGaps: [SegmentManifest.PauseGap]
    var monitor: String?
    /// The most a power loss takes from this journal (its sync interval), for a recovered manifest.
    var lostAtMostMs: Int
}

/// A closing's state: what the manifest of a segment ending at that closing says.
struct JournalProgress: Codable, Equatable {
    var durationMs: Double
    var frameCount: Int
    var lastFrameOffsetMs: Int64
    var holds: [HoldInterval]
    /// Set in the closing of the finished segment (nothing after it was lost).
    var endReason: String?
}

extension JournalMetadata {
    func encoded() throws -> [UInt8] { try JournalMetadata.sortedEncoder().encode(self).map { $0 } }

    /// Sorted keys: the same state gives the same record bytes.
    static func sortedEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}

extension JournalProgress {
    func encoded() throws -> [UInt8] { try JournalMetadata.sortedEncoder().encode(self).map { $0 } }
}
