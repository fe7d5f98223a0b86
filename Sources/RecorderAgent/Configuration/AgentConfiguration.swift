import Foundation
import RecorderCore
import StorageClient

/// The agent's configuration file (JSON). Every key is optional; command-line flags override it.
///
/// ```json
/// { "version": 1, "display": ":0", "agent_id": "ws-0042", "node_path": "/emea/paris/sales",
///   "state_directory": "/var/lib/recorder-agent/state", "output_directory": "/var/lib/recorder-agent/segments",
///   "recipient_certificates": ["/etc/recorder-agent/recording-key.pem"],
///   "recording": { "fps": 5, "bitrate_kbps": 300, "cpu_used": 8, "segment_seconds": 60,
///                  "keyframe_interval_seconds": 0, "monitor": null, "draw_cursor": true,
///                  "force_xgetimage": false } }
/// ```
public struct AgentConfiguration: Sendable, Equatable {
    public var display: String?
    /// Who signs the manifests; defaults to the host name.
    public var agentId: String?
    /// Where in the organisation this workstation sits (e.g. /emea/paris/sales); decides storage later.
    public var nodePath = "/"
    /// Identity key and hash-chain head (default: $XDG_STATE_HOME/recorder-agent).
    public var stateDirectory: String?
    public var outputDirectory: String?
    public var spool = SpoolLimits()
    /// The node path's storage (WebDAV over HTTPS); nil keeps segments in the spool.
    public var storage: StorageTarget?
    /// PEM certificates segments are sealed for (CMS); empty writes plain WebM (debugging only).
    public var recipientCertificates: [String] = []
    public var recording = RecordingSettings()

    public init() {}

    public struct InvalidConfiguration: Error, CustomStringConvertible, Sendable {
        public let path: String
        public let problem: String
        public var description: String { "configuration \(path): \(problem)" }
    }

    static let topLevelKeys: Set<String> = [
        "version", "display", "agent_id", "node_path", "state_directory", "output_directory", "recipient_certificates",
        "spool_max_mb", "spool_min_free_mb", "storage", "recording",
    ]
    static let storageKeys: Set<String> = [
        "url", "auth", "username", "password", "bearer_token", "ca_file", "client_certificate", "client_key",
        "max_bytes_per_second", "parallel_uploads", "stall_timeout_seconds",
    ]
    static let recordingKeys: Set<String> = [
        "fps", "bitrate_kbps", "cpu_used", "segment_seconds", "keyframe_interval_seconds", "monitor", "draw_cursor",
        "force_xgetimage",
    ]

    /// Reads and validates a file; errors name the file, the key and what is allowed.
    public static func load(path: String) throws -> AgentConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InvalidConfiguration(path: path, problem: "cannot read the file (missing or not readable)")
        }
        return try parse(data, path: path)
    }

    public static func parse(_ data: Data, path: String) throws -> AgentConfiguration {
        let root: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw InvalidConfiguration(path: path, problem: "the top level must be a JSON object")
            }
            root = object
        } catch let error as InvalidConfiguration {
            throw error
        } catch {
            throw InvalidConfiguration(path: path, problem: "not valid JSON (\(error.localizedDescription))")
        }
        let reader = KeyReader(path: path, object: root, prefix: "")
        try reader.rejectUnknownKeys(topLevelKeys)
        if let version = try reader.integer("version"), version != 1 {
            throw InvalidConfiguration(
                path: path, problem: "version \(version) is not supported; this agent reads version 1")
        }
        var configuration = AgentConfiguration()
        configuration.display = try reader.string("display")
        configuration.agentId = try reader.string("agent_id")
        configuration.nodePath = try reader.string("node_path") ?? "/"
        do {
            try NodePath.validate(configuration.nodePath)
        } catch {
            throw InvalidConfiguration(path: path, problem: "node_path: \(error)")
        }
        configuration.stateDirectory = try reader.string("state_directory")
        configuration.outputDirectory = try reader.string("output_directory")
        if let megabytes = try reader.integer("spool_max_mb") {
            guard megabytes >= 10 else {
                throw InvalidConfiguration(path: path, problem: "spool_max_mb must be at least 10")
            }
            configuration.spool.maxBytes = Int64(megabytes) << 20
        }
        if let megabytes = try reader.integer("spool_min_free_mb") {
            guard megabytes >= 0 else {
                throw InvalidConfiguration(path: path, problem: "spool_min_free_mb must not be negative")
            }
            configuration.spool.minFreeBytes = Int64(megabytes) << 20
        }
        configuration.recipientCertificates = try reader.strings("recipient_certificates") ?? []
        if let storage = try reader.object("storage") {
            configuration.storage = try parseStorage(
                KeyReader(path: path, object: storage, prefix: "storage."), path: path)
        }
        if let recording = try reader.object("recording") {
            let keys = KeyReader(path: path, object: recording, prefix: "recording.")
            try keys.rejectUnknownKeys(recordingKeys)
            var settings = RecordingSettings()
            settings.framesPerSecond = try keys.number("fps") ?? settings.framesPerSecond
            settings.bitrateKbps = try keys.integer("bitrate_kbps") ?? settings.bitrateKbps
            settings.cpuUsed = try keys.integer("cpu_used") ?? settings.cpuUsed
            settings.segmentSeconds = try keys.number("segment_seconds") ?? settings.segmentSeconds
            settings.keyframeIntervalSeconds = try keys.number("keyframe_interval_seconds") ?? 0
            settings.monitor = try keys.string("monitor")
            settings.drawCursor = try keys.bool("draw_cursor") ?? true
            settings.forceXGetImage = try keys.bool("force_xgetimage") ?? false
            do {
                try settings.validate()
            } catch {
                throw InvalidConfiguration(path: path, problem: "\(error)")
            }
            configuration.recording = settings
        }
        return configuration
    }
}

extension AgentConfiguration {
    fileprivate static func parseStorage(_ keys: KeyReader, path: String) throws -> StorageTarget {
        try keys.rejectUnknownKeys(storageKeys)
        guard let url = try keys.string("url"), url.hasPrefix("https://") else {
            throw InvalidConfiguration(path: path, problem: "storage.url must be an https:// URL")
        }
        var target = StorageTarget(baseURL: url)
        let user = try keys.string("username")
        let password = try keys.string("password")
        switch try keys.string("auth") ?? "none" {
        case "none": target.credentials = .none
        case "basic", "digest":
            guard let user, let password else {
                throw InvalidConfiguration(
                    path: path, problem: "storage.auth basic/digest needs storage.username and storage.password")
            }
            target.credentials =
                try keys.string("auth") == "basic"
                ? .basic(user: user, password: password) : .digest(user: user, password: password)
        case "bearer":
            guard let token = try keys.string("bearer_token") else {
                throw InvalidConfiguration(path: path, problem: "storage.auth bearer needs storage.bearer_token")
            }
            target.credentials = .bearer(token: token)
        case let other:
            throw InvalidConfiguration(
                path: path, problem: "storage.auth \"\(other)\" is not one of none, basic, digest, bearer")
        }
        target.caFile = try keys.string("ca_file")
        target.clientCertificate = try keys.string("client_certificate")
        target.clientKey = try keys.string("client_key")
        target.maxBytesPerSecond = try keys.integer("max_bytes_per_second")
        if let cap = target.maxBytesPerSecond, cap < 1024 {
            throw InvalidConfiguration(
                path: path,
                problem: "storage.max_bytes_per_second must be at least 1024 (or absent: no cap), found \(cap)")
        }
        if let parallel = try keys.integer("parallel_uploads") {
            guard (1...8).contains(parallel) else {
                throw InvalidConfiguration(
                    path: path, problem: "storage.parallel_uploads must be between 1 and 8, found \(parallel)")
            }
            target.parallelUploads = parallel
        }
        if let timeout = try keys.integer("stall_timeout_seconds") {
            guard (1...3600).contains(timeout) else {
                throw InvalidConfiguration(
                    path: path, problem: "storage.stall_timeout_seconds must be between 1 and 3600, found \(timeout)")
            }
            target.stallTimeoutSeconds = timeout
        }
        return target
    }
}

/// Typed access to one JSON object, with messages that name the full key.
private struct KeyReader {
    let path: String
    let object: [String: Any]
    let prefix: String

    func rejectUnknownKeys(_ known: Set<String>) throws {
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw AgentConfiguration.InvalidConfiguration(
                path: path,
                problem:
                    "unknown key \"\(prefix)\(unknown)\"; known keys: \(known.sorted().map { prefix + $0 }.joined(separator: ", "))"
            )
        }
    }

    private func fail(_ key: String, _ expected: String) -> AgentConfiguration.InvalidConfiguration {
        .init(path: path, problem: "\(prefix)\(key) must be \(expected), found \(String(describing: object[key]!))")
    }

    func string(_ key: String) throws -> String? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let string = value as? String else { throw fail(key, "a string") }
        return string
    }

    func strings(_ key: String) throws -> [String]? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let strings = value as? [String] else { throw fail(key, "a list of strings") }
        return strings
    }

    func number(_ key: String) throws -> Double? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let number = value as? NSNumber, !isBoolean(number) else { throw fail(key, "a number") }
        return number.doubleValue
    }

    func integer(_ key: String) throws -> Int? {
        guard let number = try number(key) else { return nil }
        guard number == number.rounded(), abs(number) < 1e15 else { throw fail(key, "a whole number") }
        return Int(number)
    }

    func bool(_ key: String) throws -> Bool? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let number = value as? NSNumber, isBoolean(number) else { throw fail(key, "true or false") }
        return number.boolValue
    }

    func object(_ key: String) throws -> [String: Any]? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let nested = value as? [String: Any] else { throw fail(key, "an object") }
        return nested
    }

    private func isBoolean(_ number: NSNumber) -> Bool {
        // On Linux JSONSerialization yields Bool-backed NSNumbers for true/false.
        String(cString: number.objCType) == "c" || type(of: number) == type(of: NSNumber(value: true))
    }
}
