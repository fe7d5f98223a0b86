import Foundation
import Logging
import RecorderCore

/// A sealed recording's segment in progress: its WebM made so it can end after any cluster
/// (`ProgressiveWebMWriter`), encrypted as it is made (`ProgressiveSeal`), and journaled
/// (`SegmentJournalWriter`): each checkpoint appends the clusters since the last one and a closing,
/// so after a crash the journal alone is a complete sealed segment up to its last checkpoint.
///
/// The ciphertext is kept in memory as well: the finished segment is put together from it and written
/// once by the spool, as before, and its journal removed once that file is durable. Nothing here is
/// plaintext on disk; the content key never leaves the seal.
///
/// A journal that cannot be written (a full disk, a removed directory) is given up for this segment
/// with an error in the log: the recording goes on in memory, as it would without a journal.
final class JournaledSegment: SegmentInProgress {
    private var writer: ProgressiveWebMWriter
    private let seal: ProgressiveSeal
    private var journal: SegmentJournalWriter?
    /// The journal's file, removed by the spool once the sealed segment is stored.
    let journalURL: URL?
    private var body: [UInt8] = []
    /// Every this many checkpoints the journal is synced (`SegmentJournaling.checkpointsPerSync`).
    private let checkpointsPerSync: Int
    private var checkpointsUnsynced = 0
    private let logger: Logger

    init(metadata: JournalMetadata, journaling: SegmentJournaling, logger: Logger) throws {
        writer = ProgressiveWebMWriter(
            width: metadata.width, height: metadata.height, startWallTimeNanos: metadata.startWallTimeNanos)
        seal = try ProgressiveSeal(for: journaling.recipients, headerLength: writer.headerLength)
        body.reserveCapacity(1 << 20)
        checkpointsPerSync = journaling.checkpointsPerSync
        self.logger = logger
        let name = StorageLayout.segmentFileName(
            firstFrameUnixNanos: metadata.startWallTimeNanos, sequence: metadata.sequence,
            suffix: "-\(UUID().uuidString.prefix(8).lowercased())\(SegmentJournaling.fileSuffix)")
        let url = journaling.directory.appendingPathComponent(name)
        do {
            try DurableFile.makeDirectory(journaling.directory)
            journal = try SegmentJournalWriter(creating: url, metadata: try metadata.encoded(), seal: seal)
            journalURL = url
        } catch {
            logger.error(
                "cannot journal the segment in progress; a crash would lose it until it is finished",
                metadata: ["journal": "\(url.path)", "error": "\(error)", "fix": "make the state directory writable and free space on it"])
            journalURL = nil
        }
    }

    var width: Int { writer.width }
    var height: Int { writer.height }
    var startWallTimeNanos: Int64 { writer.startWallTimeNanos }
    var frameCount: Int { writer.frameCount }
    var lastTimestampMs: Int64 { writer.lastTimestampMs }

    func append(frame: [UInt8], timestampMs: Int64, isKeyframe: Bool) throws {
        try absorb(writer.append(frame: frame, timestampMs: timestampMs, isKeyframe: isKeyframe))
    }

    func checkpoint(durationMs: Double, progress: JournalProgress) throws {
        try absorb(writer.cut())
        guard journal != nil else { return }
        let closing = try close(durationMs: durationMs)
        journaling {
            try $0.appendClosing(closing, state: try progress.encoded())
            checkpointsUnsynced += 1
            if checkpointsUnsynced >= checkpointsPerSync {
                try $0.sync()
                checkpointsUnsynced = 0
            }
        }
    }

    func finish(durationMs: Double, progress: JournalProgress) throws -> RecordedSegment.Content {
        try absorb(writer.cut())
        let closing = try close(durationMs: durationMs)
        // The finished segment's closing, written but not synced: a killed process before the spool
        // holds the segment recovers all of it, a power loss what the last sync held. Syncing here
        // would hold the next segment's first frame back by the disk's fsync time.
        journaling { try $0.appendClosing(closing, state: try progress.encoded()) }
        journal?.close()
        journal = nil
        let sealed = try ProgressiveSeal.envelope(
            recipientSet: seal.recipientSet, nonce: seal.nonce, closing: closing, bodyCiphertext: body[...])
        body = []
        return .sealed(sealed, journal: journalURL)
    }

    private func close(durationMs: Double) throws -> ProgressiveSeal.Closing {
        let ends = writer.closing(durationMs: durationMs)
        return try seal.close(header: ends.header, tail: ends.tail)
    }

    /// Encrypts the body's next bytes, keeps them, and journals them.
    private func absorb(_ plaintext: [UInt8]) throws {
        guard !plaintext.isEmpty else { return }
        let ciphertext = try seal.append(plaintext)
        body.append(contentsOf: ciphertext)
        journaling { try $0.appendBody(ciphertext) }
    }

    /// Runs a journal write; a failure gives the journal up for this segment, loudly.
    private func journaling(_ write: (SegmentJournalWriter) throws -> Void) {
        guard let journal else { return }
        do {
            try write(journal)
        } catch {
            logger.error(
                "journal write failed; the segment in progress is kept in memory only until it is finished",
                metadata: ["journal": "\(journal.url.path)", "error": "\(error)", "fix": "free space on the state directory's disk"])
            journal.close()
            self.journal = nil
        }
    }
}
