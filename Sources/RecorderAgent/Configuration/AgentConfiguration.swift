import Foundation
import RecorderCore
import StorageClient

/// The agent's configuration file (JSON, `Agent/agent.example.json`). Every key is optional;
/// command-line flags override it. Read with the one strict decoder (`StrictJSON`): an unknown or
/// misspelt key is an error naming it, so a setting is never silently ignored.
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
    /// Where in the organisation this workstation sits (e.g. /emea/paris/sales); decides its storage.
    public var nodePath = "/"
    /// Identity key and hash-chain head (default: $XDG_STATE_HOME/recorder-agent).
    public var stateDirectory: String?
    /// The spool: sealed segments wait here until they are uploaded.
    public var outputDirectory: String?
    public var spool = SpoolLimits()
    /// The node path's storage (WebDAV over HTTPS); nil keeps segments in the spool.
    public var storage: StorageTarget?
    /// PEM certificates segments are sealed for (CMS); empty writes plain WebM (debugging only).
    public var recipientCertificates: [String] = []
    public var recording = RecordingSettings()
    /// A softphone on this workstation whose own events the agent follows (`--follow-calls`).
    public var softphone: Softphone?

    /// `{"kind": "baresip", "control": "127.0.0.1:4444"}`: baresip's `ctrl_tcp_listen` address.
    public struct Softphone: Codable, Sendable, Equatable {
        public enum Kind: String, Codable, Sendable, CaseIterable {
            case baresip

            public init(from decoder: any Decoder) throws { self = try StrictJSON.oneOf(decoder) }
        }
        public var kind: Kind
        public var control: String

        public init(kind: Kind, control: String) {
            self.kind = kind
            self.control = control
        }

        enum CodingKeys: String, CodingKey { case kind, control }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            kind = try container.decode(Kind.self, forKey: .kind)
            control = try container.decode(String.self, forKey: .control)
            do {
                _ = try BaresipControl.endpoint(control)
            } catch {
                throw DecodingError.dataCorruptedError(forKey: .control, in: container, debugDescription: "is refused: \(error)")
            }
        }
    }

    public init() {}

    public struct InvalidConfiguration: Error, CustomStringConvertible, Sendable {
        public let path: String
        public let problem: String
        public var description: String { "configuration \(path): \(problem)" }
    }

    /// Reads and validates a file; errors name the file, the key and what is allowed.
    public static func load(path: String) throws -> AgentConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InvalidConfiguration(path: path, problem: "cannot read the file (missing or not readable)")
        }
        return try parse(data, path: path)
    }

    public static func parse(_ data: Data, path: String) throws -> AgentConfiguration {
        do {
            return try StrictJSON.decode(AgentConfiguration.self, from: data)
        } catch {
            throw InvalidConfiguration(path: path, problem: error.message)
        }
    }

    /// The file's bytes (pretty, sorted keys): what `recorder-agent enroll` writes.
    public func fileBytes() throws -> Data {
        try StrictJSON.encode(self, pretty: true)
    }
}

extension AgentConfiguration: Codable {
    enum CodingKeys: String, CodingKey {
        case version, display, storage, recording, softphone
        case agentId = "agent_id"
        case nodePath = "node_path"
        case stateDirectory = "state_directory"
        case outputDirectory = "output_directory"
        case recipientCertificates = "recipient_certificates"
        case spoolMaxMB = "spool_max_mb"
        case spoolMinFreeMB = "spool_min_free_mb"
    }

    public init(from decoder: any Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: CodingKeys.self)
        _ = try container.contractVersion(.version, required: false)
        display = try container.decodeIfPresent(String.self, forKey: .display)
        agentId = try container.decodeIfPresent(String.self, forKey: .agentId)
        nodePath = try container.decodeIfPresent(String.self, forKey: .nodePath) ?? "/"
        do {
            try NodePath.validate(nodePath)
        } catch {
            throw DecodingError.dataCorruptedError(
                forKey: .nodePath, in: container, debugDescription: "is refused: \(error)")
        }
        stateDirectory = try container.decodeIfPresent(String.self, forKey: .stateDirectory)
        outputDirectory = try container.decodeIfPresent(String.self, forKey: .outputDirectory)
        if let megabytes = try container.decodeIfPresent(Int.self, forKey: .spoolMaxMB) {
            guard megabytes >= 10 else {
                throw DecodingError.dataCorruptedError(
                    forKey: .spoolMaxMB, in: container, debugDescription: "must be at least 10, found \(megabytes)")
            }
            spool.maxBytes = Int64(megabytes) << 20
        }
        if let megabytes = try container.decodeIfPresent(Int.self, forKey: .spoolMinFreeMB) {
            guard megabytes >= 0 else {
                throw DecodingError.dataCorruptedError(
                    forKey: .spoolMinFreeMB, in: container, debugDescription: "must not be negative, found \(megabytes)")
            }
            spool.minFreeBytes = Int64(megabytes) << 20
        }
        recipientCertificates = try container.decodeIfPresent([String].self, forKey: .recipientCertificates) ?? []
        storage = try container.decodeIfPresent(StorageSection.self, forKey: .storage)?.target
        recording = try container.decodeIfPresent(RecordingSettings.self, forKey: .recording) ?? RecordingSettings()
        softphone = try container.decodeIfPresent(Softphone.self, forKey: .softphone)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(1, forKey: .version)
        try container.encodeIfPresent(display, forKey: .display)
        try container.encodeIfPresent(agentId, forKey: .agentId)
        try container.encode(nodePath, forKey: .nodePath)
        try container.encodeIfPresent(stateDirectory, forKey: .stateDirectory)
        try container.encodeIfPresent(outputDirectory, forKey: .outputDirectory)
        if spool.maxBytes != SpoolLimits().maxBytes { try container.encode(spool.maxBytes >> 20, forKey: .spoolMaxMB) }
        if spool.minFreeBytes != SpoolLimits().minFreeBytes {
            try container.encode(spool.minFreeBytes >> 20, forKey: .spoolMinFreeMB)
        }
        try container.encode(recipientCertificates, forKey: .recipientCertificates)
        try container.encodeIfPresent(storage.map(StorageSection.init), forKey: .storage)
        if recording != RecordingSettings() { try container.encode(recording, forKey: .recording) }
        try container.encodeIfPresent(softphone, forKey: .softphone)
    }
}

/// The `storage` section: a WebDAV/HTTPS target and how to reach it.
struct StorageSection: Codable {
    var target: StorageTarget

    init(_ target: StorageTarget) {
        self.target = target
    }

    enum CodingKeys: String, CodingKey {
        case url, auth, username, password
        case bearerToken = "bearer_token"
        case caFile = "ca_file"
        case clientCertificate = "client_certificate"
        case clientKey = "client_key"
        case maxBytesPerSecond = "max_bytes_per_second"
        case parallelUploads = "parallel_uploads"
        case stallTimeoutSeconds = "stall_timeout_seconds"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let url = try container.decode(String.self, forKey: .url)
        guard url.hasPrefix("https://") else {
            throw DecodingError.dataCorruptedError(
                forKey: .url, in: container, debugDescription: "must be an https:// URL, found \"\(url)\"")
        }
        target = StorageTarget(baseURL: url)
        let user = try container.decodeIfPresent(String.self, forKey: .username)
        let password = try container.decodeIfPresent(String.self, forKey: .password)
        let token = try container.decodeIfPresent(String.self, forKey: .bearerToken)
        let auth = try container.decodeIfPresent(String.self, forKey: .auth) ?? "none"
        switch auth {
        case "none": target.credentials = .none
        case "basic", "digest":
            guard let user, let password else {
                throw DecodingError.dataCorruptedError(
                    forKey: .auth, in: container, debugDescription: "\(auth) needs storage.username and storage.password")
            }
            target.credentials =
                auth == "basic" ? .basic(user: user, password: password) : .digest(user: user, password: password)
        case "bearer":
            guard let token else {
                throw DecodingError.dataCorruptedError(
                    forKey: .auth, in: container, debugDescription: "bearer needs storage.bearer_token")
            }
            target.credentials = .bearer(token: token)
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .auth, in: container,
                debugDescription: "\"\(OutsideText.bounded(auth, limit: 40))\" is not one of none, basic, digest, bearer")
        }
        target.caFile = try container.decodeIfPresent(String.self, forKey: .caFile)
        target.clientCertificate = try container.decodeIfPresent(String.self, forKey: .clientCertificate)
        target.clientKey = try container.decodeIfPresent(String.self, forKey: .clientKey)
        target.maxBytesPerSecond = try container.decodeIfPresent(Int.self, forKey: .maxBytesPerSecond)
        if let cap = target.maxBytesPerSecond, cap < 1024 {
            throw DecodingError.dataCorruptedError(
                forKey: .maxBytesPerSecond, in: container,
                debugDescription: "must be at least 1024 (or absent: no cap), found \(cap)")
        }
        if let parallel = try container.decodeIfPresent(Int.self, forKey: .parallelUploads) {
            guard (1...8).contains(parallel) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .parallelUploads, in: container, debugDescription: "must be between 1 and 8, found \(parallel)")
            }
            target.parallelUploads = parallel
        }
        if let timeout = try container.decodeIfPresent(Int.self, forKey: .stallTimeoutSeconds) {
            guard (1...3600).contains(timeout) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .stallTimeoutSeconds, in: container,
                    debugDescription: "must be between 1 and 3600, found \(timeout)")
            }
            target.stallTimeoutSeconds = timeout
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(target.baseURL, forKey: .url)
        switch target.credentials {
        case .none: try container.encode("none", forKey: .auth)
        case .basic(let user, let password), .digest(let user, let password):
            if case .basic = target.credentials {
                try container.encode("basic", forKey: .auth)
            } else {
                try container.encode("digest", forKey: .auth)
            }
            try container.encode(user, forKey: .username)
            try container.encode(password, forKey: .password)
        case .bearer(let token):
            try container.encode("bearer", forKey: .auth)
            try container.encode(token, forKey: .bearerToken)
        }
        try container.encodeIfPresent(target.caFile, forKey: .caFile)
        try container.encodeIfPresent(target.clientCertificate, forKey: .clientCertificate)
        try container.encodeIfPresent(target.clientKey, forKey: .clientKey)
        try container.encodeIfPresent(target.maxBytesPerSecond, forKey: .maxBytesPerSecond)
        if target.parallelUploads != 2 { try container.encode(target.parallelUploads, forKey: .parallelUploads) }
        if target.stallTimeoutSeconds != 60 {
            try container.encode(target.stallTimeoutSeconds, forKey: .stallTimeoutSeconds)
        }
    }
}
