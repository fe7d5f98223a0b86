/// `POST /api/v1/agents/enrol`: a workstation exchanges a one-time code for its token (contract version 1).
public struct EnrolmentRequest: Codable, Sendable, Equatable {
    public var code: String
    public var agentId: String
    public var hostname: String?
    /// The agent's Ed25519 manifest-signing public key, base64 (32 bytes).
    public var signingKey: String

    public init(code: String, agentId: String, hostname: String?, signingKey: String) {
        self.code = code
        self.agentId = agentId
        self.hostname = hostname
        self.signingKey = signingKey
    }

    enum CodingKeys: String, CodingKey {
        case code, hostname
        case agentId = "agent_id"
        case signingKey = "signing_key"
    }
}

/// The collector's answer to an enrolment: the agent's token, shown once, and its configuration.
public struct EnrolmentResponse: Codable, Sendable, Equatable {
    public var agentToken: String
    public var configuration: AgentConfigurationDocument

    public init(agentToken: String, configuration: AgentConfigurationDocument) {
        self.agentToken = agentToken
        self.configuration = configuration
    }

    enum CodingKeys: String, CodingKey {
        case agentToken = "agent_token"
        case configuration
    }
}

/// `collector.json` in the agent's state directory (0600): which collector it enrolled with, and its
/// token. Written at enrolment, read by every later start.
public struct EnrolmentRecord: Codable, Sendable, Equatable {
    public var version = 1
    public var collectorURL: String
    public var agentToken: String

    public init(collectorURL: String, agentToken: String) {
        self.collectorURL = collectorURL
        self.agentToken = agentToken
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.contractVersion(.version, required: true)
        collectorURL = try container.decode(String.self, forKey: .collectorURL)
        agentToken = try container.decode(String.self, forKey: .agentToken)
    }

    enum CodingKeys: String, CodingKey {
        case version
        case collectorURL = "collector_url"
        case agentToken = "agent_token"
    }
}
