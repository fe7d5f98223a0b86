import Foundation
import Glibc

/// How much of the disk the spool may use. When a segment does not fit, it is refused (and counted,
/// and logged as an error) instead of filling the disk: sealed segments already in the spool are never
/// deleted to make room, and recording continues so that segments fit again once uploads free space.
public struct SpoolLimits: Sendable, Equatable {
    public var maxBytes: Int64 = 2 << 30
    public var minFreeBytes: Int64 = 1 << 30

    public init() {}

    public init(maxBytes: Int64, minFreeBytes: Int64) {
        self.maxBytes = maxBytes
        self.minFreeBytes = minFreeBytes
    }

    /// Nil when `size` more bytes fit; otherwise why not, for the log and `status`.
    func refusal(adding size: Int, to spool: SpoolContents, on directory: URL) -> String? {
        if spool.bytes + Int64(size) > maxBytes {
            return "spool full: \(spool.bytes + Int64(size)) bytes would exceed spool_max_mb (\(maxBytes >> 20) MB)"
        }
        var stats = statvfs()
        if statvfs(directory.path, &stats) == 0 {
            let free = Int64(stats.f_bavail) * Int64(stats.f_frsize)
            if free - Int64(size) < minFreeBytes {
                return
                    "disk low: \(free >> 20) MB free on \(directory.path), spool_min_free_mb is \(minFreeBytes >> 20) MB"
            }
        }
        return nil
    }
}

/// What the spool holds right now: sealed segments waiting for upload.
public struct SpoolContents: Sendable, Equatable {
    public var segments = 0
    public var bytes: Int64 = 0
    /// File name of the oldest pending segment (names sort by time).
    public var oldest: String?

    public static func scan(_ directory: URL) -> SpoolContents {
        var contents = SpoolContents()
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
        for name in names where !name.hasPrefix(".") {
            let size =
                (try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(name).path))?[.size]
                as? Int64 ?? 0
            contents.bytes += size
            if name.hasSuffix(".webm.p7m") || name.hasSuffix(".webm") {
                contents.segments += 1
                if contents.oldest == nil { contents.oldest = name }
            }
        }
        return contents
    }
}
