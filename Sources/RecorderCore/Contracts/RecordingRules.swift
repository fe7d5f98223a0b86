import Foundation

/// How a workstation records calls, as admins set it per node path (contract version 1): the
/// collector resolves it field by field, each from the longest node path prefix that sets it, and
/// delivers it with the agent's configuration (`AgentConfigurationDocument.recordingRules`).
public struct RecordingRules: Codable, Sendable, Equatable {
    /// Record the screen of calls at all.
    public var recordCalls = true
    /// Only legs in these queues (empty: every leg). A leg whose events name no queue is not in any.
    public var includeQueues: [String] = []
    /// Never legs in these queues (wins over `includeQueues`).
    public var excludeQueues: [String] = []
    /// Capture rate and target bitrate; nil: the agent's own settings.
    public var framesPerSecond: Int?
    public var bitrateKbps: Int?
    /// Recording goes on this long after the last leg ends (after-call work).
    public var postRollSeconds = 30
    /// A PCI pause nobody resumes ends by itself after this long, and says so.
    public var autoResumeSeconds = 600
    /// Record the screen from the agent's start, in segments, whatever the calls (for sites whose CTI
    /// is unreliable); calls still cut segments and name their legs.
    public var recordAlways = false

    public init() {}

    /// Whether a leg in `queue` is recorded.
    public func records(queue: String?) -> Bool {
        guard recordCalls else { return false }
        if let queue, excludeQueues.contains(queue) { return false }
        guard !includeQueues.isEmpty else { return true }
        return queue.map(includeQueues.contains) ?? false
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case recordCalls = "record_calls"
        case includeQueues = "include_queues"
        case excludeQueues = "exclude_queues"
        case framesPerSecond = "fps"
        case bitrateKbps = "bitrate_kbps"
        case postRollSeconds = "post_roll_seconds"
        case autoResumeSeconds = "auto_resume_seconds"
        case recordAlways = "record_always"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = RecordingRules()
        recordCalls = try container.decodeIfPresent(Bool.self, forKey: .recordCalls) ?? defaults.recordCalls
        includeQueues = try container.decodeIfPresent([String].self, forKey: .includeQueues) ?? []
        excludeQueues = try container.decodeIfPresent([String].self, forKey: .excludeQueues) ?? []
        framesPerSecond = try container.decodeIfPresent(Int.self, forKey: .framesPerSecond)
        bitrateKbps = try container.decodeIfPresent(Int.self, forKey: .bitrateKbps)
        postRollSeconds = try container.decodeIfPresent(Int.self, forKey: .postRollSeconds) ?? defaults.postRollSeconds
        autoResumeSeconds =
            try container.decodeIfPresent(Int.self, forKey: .autoResumeSeconds) ?? defaults.autoResumeSeconds
        recordAlways = try container.decodeIfPresent(Bool.self, forKey: .recordAlways) ?? defaults.recordAlways
    }
}

/// What one node path sets of the recording rules: every field optional, an absent one inherited from
/// the next shorter node path (and in the end from `RecordingRules`' defaults). Checked on the way in:
/// bounds that a recorder can honour, queue names bounded and visible.
public struct RecordingRulesOverride: Codable, Sendable, Equatable {
    public var recordCalls: Bool?
    public var includeQueues: [String]?
    public var excludeQueues: [String]?
    public var framesPerSecond: Int?
    public var bitrateKbps: Int?
    public var postRollSeconds: Int?
    public var autoResumeSeconds: Int?
    public var recordAlways: Bool?

    public init(
        recordCalls: Bool? = nil, includeQueues: [String]? = nil, excludeQueues: [String]? = nil,
        framesPerSecond: Int? = nil, bitrateKbps: Int? = nil, postRollSeconds: Int? = nil,
        autoResumeSeconds: Int? = nil, recordAlways: Bool? = nil
    ) {
        self.recordCalls = recordCalls
        self.includeQueues = includeQueues
        self.excludeQueues = excludeQueues
        self.framesPerSecond = framesPerSecond
        self.bitrateKbps = bitrateKbps
        self.postRollSeconds = postRollSeconds
        self.autoResumeSeconds = autoResumeSeconds
        self.recordAlways = recordAlways
    }

    typealias CodingKeys = RecordingRules.CodingKeys

    public static let framesPerSecondRange = 1...30
    public static let bitrateRange = 50...20_000
    public static let postRollRange = 0...3600
    public static let autoResumeRange = 10...86_400
    public static let maxQueues = 100

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func number(_ key: CodingKeys, _ range: ClosedRange<Int>) throws -> Int? {
            guard let value = try container.decodeIfPresent(Int.self, forKey: key) else { return nil }
            guard range.contains(value) else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: container,
                    debugDescription: "must be from \(range.lowerBound) to \(range.upperBound), found \(value)")
            }
            return value
        }
        func queues(_ key: CodingKeys) throws -> [String]? {
            guard let names = try container.decodeIfPresent([String].self, forKey: key) else { return nil }
            guard names.count <= Self.maxQueues else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: container, debugDescription: "may name at most \(Self.maxQueues) queues")
            }
            for name in names {
                guard (1...256).contains(name.count), !name.unicodeScalars.contains(where: OutsideText.isUnsafe) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: key, in: container,
                        debugDescription:
                            "queue names are 1 to 256 visible characters; found \"\(OutsideText.bounded(name, limit: 40))\"")
                }
            }
            return names
        }
        recordCalls = try container.decodeIfPresent(Bool.self, forKey: .recordCalls)
        includeQueues = try queues(.includeQueues)
        excludeQueues = try queues(.excludeQueues)
        framesPerSecond = try number(.framesPerSecond, Self.framesPerSecondRange)
        bitrateKbps = try number(.bitrateKbps, Self.bitrateRange)
        postRollSeconds = try number(.postRollSeconds, Self.postRollRange)
        autoResumeSeconds = try number(.autoResumeSeconds, Self.autoResumeRange)
        recordAlways = try container.decodeIfPresent(Bool.self, forKey: .recordAlways)
    }

    public var isEmpty: Bool { self == RecordingRulesOverride() }

    /// The keys this override sets, for saying where an effective value came from.
    public var setKeys: [String] {
        let present: [(CodingKeys, Bool)] = [
            (.recordCalls, recordCalls != nil), (.includeQueues, includeQueues != nil),
            (.excludeQueues, excludeQueues != nil), (.framesPerSecond, framesPerSecond != nil),
            (.bitrateKbps, bitrateKbps != nil), (.postRollSeconds, postRollSeconds != nil),
            (.autoResumeSeconds, autoResumeSeconds != nil), (.recordAlways, recordAlways != nil),
        ]
        return present.filter(\.1).map(\.0.rawValue)
    }

    /// `rules` with this override's fields laid over it.
    public func applied(to rules: RecordingRules) -> RecordingRules {
        var result = rules
        if let recordCalls { result.recordCalls = recordCalls }
        if let includeQueues { result.includeQueues = includeQueues }
        if let excludeQueues { result.excludeQueues = excludeQueues }
        if let framesPerSecond { result.framesPerSecond = framesPerSecond }
        if let bitrateKbps { result.bitrateKbps = bitrateKbps }
        if let postRollSeconds { result.postRollSeconds = postRollSeconds }
        if let autoResumeSeconds { result.autoResumeSeconds = autoResumeSeconds }
        if let recordAlways { result.recordAlways = recordAlways }
        return result
    }
}
