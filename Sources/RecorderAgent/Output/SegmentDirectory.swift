import Foundation
import RecorderCore

/// The debugging sink: writes finished segments as plain `.webm` files into a directory.
/// (Production agents seal segments before they touch disk; this sink exists for `record --out`.)
public struct SegmentDirectory: Sendable {
    public let url: URL

    public init(path: String) throws {
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
    public static func fileName(for segment: RecordedSegment) -> String {
        let seconds = segment.startWallTimeNanos / 1_000_000_000
        let millis = (segment.startWallTimeNanos / 1_000_000) % 1000
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        let stamp = String(
            format: "%04d%02d%02dT%02d%02d%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
            parts.tm_hour, parts.tm_min, parts.tm_sec, Int32(millis))
        return "\(stamp)-\(String(format: "%04d", segment.sequence)).webm"
    }

    /// Writes the segment atomically (temporary name, then rename) and returns its path.
    @discardableResult
    public func write(_ segment: RecordedSegment) throws -> URL {
        let destination = url.appendingPathComponent(SegmentDirectory.fileName(for: segment))
        do {
            try Data(segment.bytes).write(to: destination, options: .atomic)
        } catch {
            throw OutputError(description: "cannot write \(destination.path): \(error.localizedDescription)")
        }
        return destination
    }
}

public struct OutputError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
