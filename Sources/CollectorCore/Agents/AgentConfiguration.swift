import Foundation

/// What an agent receives at enrolment and from `GET /api/v1/agent/config` (contract version 1): its
/// identity and node path, the storage its node path resolves to (with credentials: the agent needs
/// them to upload; its own account when it has one, `AgentStorageCredentials`), and the certificates of every active recording key to seal for.
public struct AgentConfigurationDocument: Codable, Sendable, Equatable {
    public struct Storage: Codable, Sendable, Equatable {
        public var url: String
        /// none, basic, digest, bearer, or agent_token (the built-in store: the agent's own token).
        public var auth: String
        public var username: String?
        public var password: String?
        public var bearerToken: String?
        public var caPEM: String?

        enum CodingKeys: String, CodingKey {
            case url, auth, username, password
            case bearerToken = "bearer_token"
            case caPEM = "ca_pem"
        }
    }

    public var version = 1
    public var agentId: String
    public var nodePath: String
    public var storageTarget: String
    public var storage: Storage
    public var recipientCertificatesPEM: [String]

    enum CodingKeys: String, CodingKey {
        case version, storage
        case agentId = "agent_id"
        case nodePath = "node_path"
        case storageTarget = "storage_target"
        case recipientCertificatesPEM = "recipient_certificates_pem"
    }
}

extension Collector {
    /// Builds an agent's configuration from the catalog as it is now (node path → storage by longest
    /// prefix; active recording keys). `builtinURL` and `builtinCAPEM` describe this collector's own store.
    public func configuration(for agent: Agents.Agent, builtinURL: String, builtinCAPEM: String?) async throws
        -> AgentConfigurationDocument
    {
        guard let nodePath = try await nodePaths.resolve(agent.nodePath) else {
            throw AdminError(
                .notFound,
                "no node path covers \(agent.nodePath); an admin must add one (or /) before this agent can record")
        }
        let target = try await storageTargets.get(nodePath.storage)
        let storage: AgentConfigurationDocument.Storage
        switch target.kind {
        case .builtin:
            storage = .init(url: builtinURL, auth: "agent_token", caPEM: builtinCAPEM)
        case .webdav:
            var username = target.username
            var secret: String?
            if let own = try await agentStorageCredentials.credential(agentId: agent.id, target: target.name) {
                (username, secret) = (own.username, own.secret)
            } else if target.agentCredentials == .own {
                throw AdminError(
                    .conflict,
                    "agent \(agent.id) has no credentials of its own for storage target \(target.name), whose agents must use their own; an admin must set them (recorder-collector admin agent storage-credentials set \(agent.id) \(target.name) --username NAME --secret-stdin)"
                )
            } else {
                secret = try await storageTargets.secret(of: target.name)
            }
            storage = .init(
                url: target.url ?? "", auth: target.auth.rawValue, username: username,
                password: target.auth == .basic || target.auth == .digest ? secret : nil,
                bearerToken: target.auth == .bearer ? secret : nil, caPEM: target.caPEM)
        }
        let recipients = try await recordingKeys.active().map(\.certificatePEM)
        return AgentConfigurationDocument(
            agentId: agent.id, nodePath: agent.nodePath, storageTarget: target.name, storage: storage,
            recipientCertificatesPEM: recipients)
    }
}
