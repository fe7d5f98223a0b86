import Foundation
import RecorderCore

/// Writes finished segments into a directory: sealed as `.webm.p7m` (CMS, see `SegmentSealer`) when
/// recipients are configured, so no plaintext frame reaches the disk; plain `.webm` otherwise (debugging).
public struct SegmentDirectory: Sendable {
    public let url: URL
    public let recipients: [SealingRecipient]
    /// Signs a manifest for every sealed segment and links it into the agent's hash chain.
    public let chain: ManifestChain?

    public let limits: SpoolLimits

    /// The result of offering a segment to the directory.
    public enum Outcome: Sendable {
        case stored(URL)
        /// Not written because of the spool limits; the reason says which.
        case refused(String)
    }

    public init(
        path: String, recipients: [SealingRecipient] = [], chain: ManifestChain? = nil, limits: SpoolLimits = .init()
    ) throws {
        self.recipients = recipients
        self.limits = limits
        self.chain = chain
        url = URL(fileURLWithPath: path, isDirectory: true)
        try DurableFile.makeDirectory(url)
        guard FileManager.default.isWritableFile(atPath: url.path) else {
            throw OutputError(description: "output directory \(path) is not writable by this user")
        }
    }

    /// `20261123T174501.250Z-0001.webm`: sorts by time, unique per agent, safe on every filesystem.
    public static func fileName(for segment: RecordedSegment, sequence: Int? = nil, suffix: String = ".webm") -> String
    {
        StorageLayout.segmentFileName(
            firstFrameUnixNanos: segment.startWallTimeNanos, sequence: sequence ?? segment.sequence, suffix: suffix)
    }

    /// Writes the segment durably (temporary name, fsync, rename) and returns its path. With recipients
    /// the file is sealed (`.webm.p7m`) and, with a chain, a signed manifest (`.json`) follows it.
    public func write(_ segment: RecordedSegment) throws -> Outcome {
        // Sealing adds well under 1 KB per recipient; the manifest about 1 KB.
        let expected = segment.content.byteCount + 1024 * (recipients.count + 1)
        if let reason = limits.refusal(adding: expected, to: SpoolContents.scan(url), on: url) {
            return .refused(reason)
        }
        return .stored(try store(segment))
    }

    /// A segment sealed as it was recorded comes with its journal, removed once the sealed file and its
    /// manifest are durable and the chain's head has moved (a crash before that recovers the journal,
    /// and `JournalRecovery` sees that the segment is already stored).
    private func store(_ segment: RecordedSegment) throws -> URL {
        let sealed: [UInt8]
        var journal: URL?
        switch segment.content {
        case .plain(let bytes) where recipients.isEmpty:
            let destination = url.appendingPathComponent(SegmentDirectory.fileName(for: segment))
            try DurableFile.write(Data(bytes), to: destination)
            return destination
        case .plain(let bytes):
            sealed = try SegmentSealer.seal(bytes, for: recipients)
        case .sealed(let bytes, let journalURL):
            sealed = bytes
            journal = journalURL
        }
        let destination = try storeSealed(sealed, of: segment)
        if let journal { try DurableFile.remove(journal) }
        return destination
    }

    private func storeSealed(_ sealed: [UInt8], of segment: RecordedSegment) throws -> URL {
        guard let chain else {
            let destination = url.appendingPathComponent(SegmentDirectory.fileName(for: segment, suffix: ".webm.p7m"))
            try DurableFile.write(Data(sealed), to: destination)
            return destination
        }
        let name = try chain.append(
            segment: segment, sealedBytes: sealed,
            fileName: { SegmentDirectory.fileName(for: segment, sequence: $0, suffix: ".webm.p7m") },
            store: { name, manifest in
                try DurableFile.write(Data(sealed), to: url.appendingPathComponent(name))
                try DurableFile.write(
                    manifest, to: url.appendingPathComponent(StorageLayout.manifestName(ofSegment: name)))
            })
        return url.appendingPathComponent(name)
    }
}

public struct OutputError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
