import Foundation
import RecorderCore

/// Writes finished segments into a directory: sealed as `.webm.p7m` (CMS, see `SegmentSealer`) when
/// recipients are configured, so no plaintext frame reaches the disk; plain `.webm` otherwise (debugging).
public struct SegmentDirectory: Sendable {
    public let url: URL
    public let recipients: [SealingRecipient]

    public init(path: String, recipients: [SealingRecipient] = []) throws {
        self.recipients = recipients
        url = URL(fileURLWithPath: path, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw OutputError(description: "cannot create output directory \(path): \(error.localizedDescription)")
        }
        guard FileManager.default.isWritableFile(atPath: url.path) else {
            throw OutputError(description: "output directory \(path) is not writable by this user")
        }
    }

    /// `20261123T174501.250Z-0001.webm`: sorts by time, unique per recording, safe on every filesystem.
    public static func fileName(for segment: RecordedSegment, sealed: Bool = false) -> String {
        let seconds = segment.startWallTimeNanos / 1_000_000_000
        let millis = (segment.startWallTimeNanos / 1_000_000) % 1000
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        let stamp = String(
            format: "%04d%02d%02dT%02d%02d%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
            parts.tm_hour, parts.tm_min, parts.tm_sec, Int32(millis))
        return "\(stamp)-\(String(format: "%04d", segment.sequence)).webm\(sealed ? ".p7m" : "")"
    }

    /// Writes the segment atomically (temporary name, then rename) and returns its path.
    @discardableResult
    public func write(_ segment: RecordedSegment) throws -> URL {
        let sealed = !recipients.isEmpty
        let destination = url.appendingPathComponent(SegmentDirectory.fileName(for: segment, sealed: sealed))
        let bytes = sealed ? try SegmentSealer.seal(segment.bytes, for: recipients) : segment.bytes
        do {
            try Data(bytes).write(to: destination, options: .atomic)
        } catch {
            throw OutputError(description: "cannot write \(destination.path): \(error.localizedDescription)")
        }
        return destination
    }
}

public struct OutputError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
