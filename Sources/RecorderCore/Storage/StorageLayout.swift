import Foundation

/// Where a segment lives in storage (contract version 1):
/// `{nodePath}/{yyyy}/{mm}/{dd}/{agentId}/{callId or "standalone"}/{file}`.
/// Agent and call ids come from outside (CTI data), so every component is sanitized.
public enum StorageLayout {
    /// Path components (no slashes inside any of them) for a segment's directory.
    public static func directory(nodePath: String, firstFrameTime: String, agentId: String, callId: String?) -> [String]
    {
        let node = nodePath.split(separator: "/").map { sanitize(String($0)) }
        // firstFrameTime is RFC 3339: 2026-11-23T...
        let date = firstFrameTime.prefix(10).split(separator: "-").map(String.init)
        let day = date.count == 3 ? date : ["0000", "00", "00"]
        return node + day.map(sanitize) + [sanitize(agentId), callId.map(sanitize) ?? "standalone"]
    }

    /// A segment's file name, `20261123T174501.250Z-0001.webm.p7m`: its first frame's wall time (UTC,
    /// ms), then its per-agent sequence; sorts by time, unique per agent, safe on every file system.
    public static func segmentFileName(firstFrameUnixNanos: Int64, sequence: Int, suffix: String = segmentSuffix)
        -> String
    {
        let stamp = SegmentManifest.timestamp(unixNanos: firstFrameUnixNanos)
            .replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        return "\(stamp)-\(String(format: "%04d", sequence))\(suffix)"
    }

    /// The manifest beside a sealed segment: `X.json` for `X.webm.p7m`.
    public static func manifestName(ofSegment segmentFile: String) -> String {
        (segmentFile.hasSuffix(segmentSuffix) ? String(segmentFile.dropLast(segmentSuffix.count)) : segmentFile)
            + ".json"
    }

    /// The sealed segment a manifest belongs to: `X.webm.p7m` for `X.json`; nil for other names.
    public static func segmentName(ofManifest manifestFile: String) -> String? {
        manifestFile.hasSuffix(".json") ? String(manifestFile.dropLast(".json".count)) + segmentSuffix : nil
    }

    public static let segmentSuffix = ".webm.p7m"

    /// Keeps letters, digits, `-`, `_` and `.`; replaces anything else (slashes, control characters,
    /// spaces, non-ASCII) with `_`; never yields "", "." or ".." or a leading dot; at most 128 characters.
    public static func sanitize(_ component: String) -> String {
        var result = String(
            component.unicodeScalars.map { scalar -> Character in
                let allowed =
                    (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z")
                    || (scalar >= "0" && scalar <= "9")
                    || scalar == "-" || scalar == "_" || scalar == "."
                return allowed ? Character(scalar) : "_"
            }
        ).prefix(128)
        while result.hasPrefix(".") { result = "_" + result.dropFirst() }
        return result.isEmpty ? "_" : String(result)
    }
}
