/// How a screen is recorded: the knobs an admin sets per node path or per agent, with safe defaults.
public struct RecordingSettings: Sendable, Equatable, Codable {
    /// Frames per second at which the screen is sampled (a frame is encoded only when something changed).
    public var framesPerSecond: Double = 5
    /// VP8 target bitrate in kilobits per second.
    public var bitrateKbps: Int = 300
    /// libvpx speed/quality trade-off for VP8 (realtime mode): 0 best quality ... 16 fastest.
    public var cpuUsed: Int = 8
    /// Longest segment in seconds; a segment is also cut at resolution and monitor-geometry changes.
    public var segmentSeconds: Double = 60
    /// Extra keyframe interval inside a segment in seconds (0: only the keyframe that opens each segment).
    public var keyframeIntervalSeconds: Double = 0
    /// Record one monitor by its RandR name (e.g. "DP-1"); nil records the whole root window.
    public var monitor: String?
    /// Draw the pointer into the frames.
    public var drawCursor = true
    /// Skip MIT-SHM and read frames with XGetImage (for remote displays where SHM cannot work).
    public var forceXGetImage = false
    /// How often the journal of the segment in progress is made durable (fdatasync), in seconds: the
    /// most a power loss takes from a sealed recording (a killed agent loses at most 1 s). 0 turns
    /// the journal off: a crash then loses the whole segment in progress.
    public var journalSyncSeconds: Double = 2

    public init() {}

    public struct InvalidSetting: Error, CustomStringConvertible, Sendable {
        public let key: String
        public let problem: String
        public var description: String { "invalid setting \(key): \(problem)" }
    }

    /// Checks every value against what the recorder can honour; the error names the key and the allowed range.
    public func validate() throws {
        guard framesPerSecond.isFinite, framesPerSecond > 0, framesPerSecond <= 60 else {
            throw InvalidSetting(
                key: "fps", problem: "\(framesPerSecond) is not allowed; use a value above 0 and at most 60")
        }
        guard (10...50_000).contains(bitrateKbps) else {
            throw InvalidSetting(key: "bitrate", problem: "\(bitrateKbps) kbps is not allowed; use 10 to 50000 kbps")
        }
        guard (0...16).contains(cpuUsed) else {
            throw InvalidSetting(
                key: "cpu-used", problem: "\(cpuUsed) is not allowed; use 0 (best quality) to 16 (fastest)")
        }
        guard segmentSeconds.isFinite, segmentSeconds >= 1, segmentSeconds <= 3600 else {
            throw InvalidSetting(key: "segment-length", problem: "\(segmentSeconds) s is not allowed; use 1 s to 1 h")
        }
        guard keyframeIntervalSeconds.isFinite, keyframeIntervalSeconds >= 0 else {
            throw InvalidSetting(
                key: "keyframe-interval", problem: "must be 0 (segment start only) or a positive duration")
        }
        guard journalSyncSeconds.isFinite, journalSyncSeconds == 0 || (1...60).contains(journalSyncSeconds) else {
            throw InvalidSetting(
                key: "journal-sync", problem: "\(journalSyncSeconds) s is not allowed; use 1 s to 60 s, or 0 for no journal")
        }
        if let monitor, monitor.isEmpty {
            throw InvalidSetting(key: "monitor", problem: "an empty monitor name; omit it to record the whole screen")
        }
    }
}

/// The `recording` section of a configuration (the agent's file; later the collector's rules per node
/// path): every key optional, defaults for the rest, and the whole checked by `validate()`.
extension RecordingSettings {
    enum CodingKeys: String, CodingKey {
        case fps
        case bitrateKbps = "bitrate_kbps"
        case cpuUsed = "cpu_used"
        case segmentSeconds = "segment_seconds"
        case keyframeIntervalSeconds = "keyframe_interval_seconds"
        case monitor
        case drawCursor = "draw_cursor"
        case forceXGetImage = "force_xgetimage"
        case journalSyncSeconds = "journal_sync_seconds"
    }

    public init(from decoder: any Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: CodingKeys.self)
        framesPerSecond = try container.decodeIfPresent(Double.self, forKey: .fps) ?? framesPerSecond
        bitrateKbps = try container.decodeIfPresent(Int.self, forKey: .bitrateKbps) ?? bitrateKbps
        cpuUsed = try container.decodeIfPresent(Int.self, forKey: .cpuUsed) ?? cpuUsed
        segmentSeconds = try container.decodeIfPresent(Double.self, forKey: .segmentSeconds) ?? segmentSeconds
        keyframeIntervalSeconds =
            try container.decodeIfPresent(Double.self, forKey: .keyframeIntervalSeconds) ?? keyframeIntervalSeconds
        monitor = try container.decodeIfPresent(String.self, forKey: .monitor)
        drawCursor = try container.decodeIfPresent(Bool.self, forKey: .drawCursor) ?? drawCursor
        forceXGetImage = try container.decodeIfPresent(Bool.self, forKey: .forceXGetImage) ?? forceXGetImage
        journalSyncSeconds = try container.decodeIfPresent(Double.self, forKey: .journalSyncSeconds) ?? journalSyncSeconds
        try validate()
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(framesPerSecond, forKey: .fps)
        try container.encode(bitrateKbps, forKey: .bitrateKbps)
        try container.encode(cpuUsed, forKey: .cpuUsed)
        try container.encode(segmentSeconds, forKey: .segmentSeconds)
        try container.encode(keyframeIntervalSeconds, forKey: .keyframeIntervalSeconds)
        try container.encodeIfPresent(monitor, forKey: .monitor)
        try container.encode(drawCursor, forKey: .drawCursor)
        try container.encode(forceXGetImage, forKey: .forceXGetImage)
        // Written only when changed: configurations written before the journal keep their bytes.
        if journalSyncSeconds != RecordingSettings().journalSyncSeconds {
            try container.encode(journalSyncSeconds, forKey: .journalSyncSeconds)
        }
    }
}
