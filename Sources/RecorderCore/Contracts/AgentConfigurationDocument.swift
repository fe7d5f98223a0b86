/// What an agent receives at enrolment and from `GET /api/v1/agent/config` (contract version 1): its
/// identity and node path, the storage its node path resolves to (with credentials: the agent needs
/// them to upload; its own account when an admin gave it one), and the certificates of every active
/// recording key to seal for.
public struct AgentConfigurationDocument: Codable, Sendable, Equatable {
    public struct Storage: Codable, Sendable, Equatable {
        public var url: String
        public var auth: StorageAuthentication
        public var username: String?
        public var password: String?
        public var bearerToken: String?
        public var caPEM: String?

        public init(
            url: String, auth: StorageAuthentication, username: String? = nil, password: String? = nil,
            bearerToken: String? = nil, caPEM: String? = nil
        ) {
            self.url = url
            self.auth = auth
            self.username = username
            self.password = password
            self.bearerToken = bearerToken
            self.caPEM = caPEM
        }

        enum CodingKeys: String, CodingKey {
            case url, auth, username, password
            case bearerToken = "bearer_token"
            case caPEM = "ca_pem"
        }
    }

    /// How the agent authenticates to its storage; `agent_token`: the built-in store, with the
    /// agent's own collector token.
    public enum StorageAuthentication: String, Codable, Sendable, CaseIterable {
        case none, basic, digest, bearer
        case agentToken = "agent_token"

        public init(from decoder: any Decoder) throws { self = try StrictJSON.oneOf(decoder) }
    }

    public var version = 1
    public var agentId: String
    public var nodePath: String
    public var storageTarget: String
    public var storage: Storage
    public var recipientCertificatesPEM: [String]
    /// How this workstation records calls, resolved from its node path (absent from collectors before
    /// recording rules; the agent then uses `RecordingRules()`'s defaults).
    public var recordingRules: RecordingRules?

    public init(
        agentId: String, nodePath: String, storageTarget: String, storage: Storage, recipientCertificatesPEM: [String],
        recordingRules: RecordingRules? = nil
    ) {
        self.recordingRules = recordingRules
        self.agentId = agentId
        self.nodePath = nodePath
        self.storageTarget = storageTarget
        self.storage = storage
        self.recipientCertificatesPEM = recipientCertificatesPEM
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.contractVersion(.version, required: true)
        agentId = try container.decode(String.self, forKey: .agentId)
        nodePath = try container.decode(String.self, forKey: .nodePath)
        storageTarget = try container.decode(String.self, forKey: .storageTarget)
        storage = try container.decode(Storage.self, forKey: .storage)
        recipientCertificatesPEM = try container.decode([String].self, forKey: .recipientCertificatesPEM)
        recordingRules = try container.decodeIfPresent(RecordingRules.self, forKey: .recordingRules)
    }

    enum CodingKeys: String, CodingKey {
        case version, storage
        case agentId = "agent_id"
        case nodePath = "node_path"
        case storageTarget = "storage_target"
        case recipientCertificatesPEM = "recipient_certificates_pem"
        case recordingRules = "recording_rules"
    }
}

