import Foundation
import Logging
import RecorderCore

/// Turns the journals a crash left (`JournaledSegment`) into sealed segments in the spool, each in its
/// place in the chain with a manifest whose end reason is `recovered` and whose `recovery` says how
/// much was lost. Runs at start, before recording and uploading, after the chain's head is recovered
/// (`ManifestChain.recoverHead`) and before orphaned sealed files are re-attested.
///
/// Idempotent, so a crash during recovery is recovered the same way: a journal whose sealed segment
/// the spool or the chain already holds (the crash came after it was stored) is only removed. A
/// journal that cannot be recovered is moved aside and reported, never deleted; one that holds nothing
/// (the agent died before its first frame was journaled) is removed with a notice.
public struct JournalRecovery: Sendable {
    public let directory: URL
    public let spool: SegmentDirectory
    let logger: Logger

    public init(directory: URL, spool: SegmentDirectory, logger: Logger) {
        self.directory = directory
        self.spool = spool
        self.logger = logger
    }

    public struct Report: Sendable, Equatable {
        /// Segment files written from journals.
        public var recovered: [String] = []
        /// Journals whose segment was already stored.
        public var alreadyStored = 0
        /// Journals that held no closed frame.
        public var empty = 0
        /// Journals moved aside, each with why.
        public var setAside: [String] = []
        /// Journals left for the next start (the spool refused the segment: full).
        public var postponed: [String] = []

        public init() {}
    }

    public func run() throws -> Report {
        var report = Report()
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(SegmentJournaling.fileSuffix) && !$0.hasPrefix(".") }.sorted()
        for name in names {
            let url = directory.appendingPathComponent(name)
            do {
                try recover(url, into: &report)
            } catch let failure as Unrecoverable {
                try setAside(url, because: failure.description, in: &report)
            }
        }
        return report
    }

    struct Unrecoverable: Error, CustomStringConvertible {
        let description: String
    }

    private func recover(_ url: URL, into report: inout Report) throws {
        guard let bytes = FileManager.default.contents(atPath: url.path) else {
            throw Unrecoverable(description: "cannot be read")
        }
        let contents: SegmentJournal.Contents
        do {
            contents = try SegmentJournal.read([UInt8](bytes))
        } catch {
            throw Unrecoverable(description: "\(error)")
        }
        guard contents.closing != nil else {
            guard contents.unclosedBodyBytes == 0 && contents.tornBytes == 0 else {
                throw Unrecoverable(
                    description: "no closing record; \(contents.unclosedBodyBytes + contents.tornBytes) bytes after its start cannot be made a segment")
            }
            logger.notice("removed a journal that held no frame", metadata: ["journal": "\(url.path)"])
            try remove(url)
            report.empty += 1
            return
        }
        let metadata: JournalMetadata
        let progress: JournalProgress
        let sealed: [UInt8]
        do {
            let decoder = JSONDecoder()
            metadata = try decoder.decode(JournalMetadata.self, from: Data(contents.metadata))
            progress = try decoder.decode(JournalProgress.self, from: Data(contents.closingState))
            sealed = try contents.sealed() ?? []
        } catch {
            throw Unrecoverable(description: "its metadata cannot be read: \(error)")
        }
        let sha = ManifestVerification.sha256Hex(sealed)
        if let chain = spool.chain, chain.holds(sealedSha256: sha, spool: spool.url) {
            try remove(url)
            report.alreadyStored += 1
            return
        }
        let recordedUntil = metadata.startWallTimeNanos + Int64(progress.durationMs * 1_000_000)
        var segment = RecordedSegment(
            sequence: metadata.sequence, content: .sealed(sealed, journal: url),
            startWallTimeNanos: metadata.startWallTimeNanos, durationMs: progress.durationMs,
            lastFrameOffsetMs: progress.lastFrameOffsetMs, width: metadata.width, height: metadata.height,
            frameCount: progress.frameCount, endReason: .recovered, legs: metadata.legs, holds: progress.holds,
            pauseGaps: metadata.pauseGaps, monitor: metadata.monitor)
        segment.recovery = SegmentManifest.Recovery(
            recordedUntil: SegmentManifest.timestamp(unixNanos: recordedUntil),
            lostAtMostMs: progress.endReason == nil ? metadata.lostAtMostMs : 0,
            discardedBytes: contents.unclosedBodyBytes + contents.tornBytes)
        switch try spool.write(segment) {
        case .stored(let stored):
            logger.warning(
                "recovered the segment a crash interrupted",
                metadata: [
                    "segment": "\(stored.lastPathComponent)", "recorded_until": "\(segment.recovery!.recordedUntil)",
                    "lost_at_most_ms": "\(segment.recovery!.lostAtMostMs)",
                ])
            report.recovered.append(stored.lastPathComponent)
        case .refused(let reason):
            logger.error(
                "a journal cannot be recovered into the spool yet; it stays for the next start",
                metadata: ["journal": "\(url.path)", "reason": "\(reason)"])
            report.postponed.append(url.lastPathComponent)
        }
    }

    private func setAside(_ url: URL, because reason: String, in report: inout Report) throws {
        let aside = SegmentJournaling.asideDirectory(of: directory)
        try DurableFile.makeDirectory(aside)
        let destination = aside.appendingPathComponent(url.lastPathComponent)
        guard rename(url.path, destination.path) == 0 else {
            throw OutputError(
                description: "cannot move the unrecoverable journal \(url.path) aside: \(String(cString: strerror(errno)))")
        }
        DurableFile.syncDirectory(directory)
        DurableFile.syncDirectory(aside)
        logger.error(
            "a journal cannot be recovered; kept aside for inspection",
            metadata: ["journal": "\(destination.path)", "reason": "\(reason)"])
        report.setAside.append("\(url.lastPathComponent): \(reason)")
    }

    private func remove(_ url: URL) throws {
        try DurableFile.remove(url)
    }
}
