import Foundation

/// What the agent says about one stored segment (contract version 1, docs/ARCHITECTURE.md).
///
/// Signed with the agent's Ed25519 key over its canonical JSON (sorted keys, no whitespace, without
/// `signature`), and chained: `previousManifestSha256` is the SHA-256 of the agent's previous manifest
/// file, so a deleted, reordered or edited segment breaks the chain visibly.
public struct SegmentManifest: Codable, Sendable, Equatable {
    public var version = 1
    public var agentId: String
    public var nodePath: String
    /// Calls the segment belongs to; empty for standalone recordings.
    public var callIds: [String]
    /// Per-agent sequence number, continuous across recordings and restarts.
    public var sequence: Int
    public var segmentFile: String
    /// RFC 3339 UTC with milliseconds.
    public var firstFrameTime: String
    public var lastFrameTime: String
    public var durationMs: Int
    public var frameCount: Int
    public var width: Int
    public var height: Int
    public var pauseGaps: [PauseGap]
    /// The legs the segment was recorded for (nil in manifests of agents before calls drove recording,
    /// and for standalone recordings: absent keys keep those manifests' signatures valid).
    public var legs: [CallLeg]?
    /// When its legs were on hold within the segment.
    public var holds: [HoldInterval]?
    /// The RandR monitor captured (`recording.monitor`); nil for the whole screen (and, as an absent
    /// key, in manifests from before it was written).
    public var monitor: String?
    public var endReason: String
    /// For a segment recovered from its journal after a crash (end reason `recovered`): how much of the
    /// recording it holds and what was lost; nil (an absent key) otherwise.
    public var recovery: Recovery?
    public var sealedSize: Int
    public var sealedSha256: String
    /// SHA-256 (hex) of the previous manifest file's bytes; nil for the agent's first segment.
    public var previousManifestSha256: String?
    public var signature: Signature?

    /// An interval nothing was captured in (a PCI pause), with why.
    public struct PauseGap: Codable, Sendable, Equatable {
        public var from: String
        public var to: String
        public var reason: String

        public init(from: String, to: String, reason: String) {
            self.from = from
            self.to = to
            self.reason = reason
        }
    }

    /// What a recovered segment holds: the recording up to `recordedUntil`, and at most `lostAtMostMs`
    /// after it (0: the segment had finished and only its storing was interrupted); `discardedBytes`
    /// of the journal came after its last checkpoint or were torn, and were left out.
    public struct Recovery: Codable, Sendable, Equatable {
        public var recordedUntil: String
        public var lostAtMostMs: Int
        public var discardedBytes: Int

        public init(recordedUntil: String, lostAtMostMs: Int, discardedBytes: Int) {
            self.recordedUntil = recordedUntil
            self.lostAtMostMs = lostAtMostMs
            self.discardedBytes = discardedBytes
        }
    }

    public struct Signature: Codable, Sendable, Equatable {
        public var algorithm = "ed25519"
        /// Base64 of the raw 32-byte public key (the collector compares it with the enrolled key).
        public var publicKey: String
        /// Base64 of the 64-byte signature over `signedBytes()`.
        public var value: String
    }

    public init(
        agentId: String, nodePath: String, callIds: [String], sequence: Int, segmentFile: String,
        firstFrameTime: String, lastFrameTime: String, durationMs: Int, frameCount: Int, width: Int, height: Int,
        pauseGaps: [PauseGap] = [], legs: [CallLeg]? = nil, holds: [HoldInterval]? = nil, monitor: String? = nil,
        endReason: String, recovery: Recovery? = nil, sealedSize: Int, sealedSha256: String,
        previousManifestSha256: String?
    ) {
        self.agentId = agentId
        self.nodePath = nodePath
        self.callIds = callIds
        self.sequence = sequence
        self.segmentFile = segmentFile
        self.firstFrameTime = firstFrameTime
        self.lastFrameTime = lastFrameTime
        self.durationMs = durationMs
        self.frameCount = frameCount
        self.width = width
        self.height = height
        self.pauseGaps = pauseGaps
        self.legs = legs
        self.holds = holds
        self.monitor = monitor
        self.endReason = endReason
        self.recovery = recovery
        self.sealedSize = sealedSize
        self.sealedSha256 = sealedSha256
        self.previousManifestSha256 = previousManifestSha256
    }

    static func canonicalEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The bytes the signature covers: the canonical JSON of the manifest without its signature.
    public func signedBytes() throws -> Data {
        var unsigned = self
        unsigned.signature = nil
        return try SegmentManifest.canonicalEncoder().encode(unsigned)
    }

    /// The file's bytes: canonical JSON including the signature.
    public func fileBytes() throws -> Data {
        try SegmentManifest.canonicalEncoder().encode(self)
    }

    /// The RFC 3339 time encoded at the start of a segment file name (`20261123T174501.250Z-0007...`).
    public static func timestamp(fromFileName name: String) -> String? {
        let digits = Array(name.prefix(20))
        guard digits.count == 20, digits[8] == "T", digits[15] == ".", digits[19] == "Z" else { return nil }
        let text = String(digits)
        func part(_ from: Int, _ length: Int) -> String { String(text.dropFirst(from).prefix(length)) }
        return "\(part(0, 4))-\(part(4, 2))-\(part(6, 2))T\(part(9, 2)):\(part(11, 2)):\(part(13, 2)).\(part(16, 3))Z"
    }

    /// Formats Unix nanoseconds as RFC 3339 UTC with milliseconds.
    public static func timestamp(unixNanos: Int64) -> String {
        let seconds = unixNanos / 1_000_000_000
        let millis = (unixNanos / 1_000_000) % 1000
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
            parts.tm_hour, parts.tm_min, parts.tm_sec, Int32(millis))
    }
}
