import Foundation
import RecorderCore

extension Collector {
    /// Refuses (409, naming the command) an agent that could not upload at `nodePath`: its storage
    /// target wants each agent's own account and this agent id has none (or one for another auth).
    public func requireStorageAccess(agentId: String, nodePath: String) async throws {
        guard let resolved = try await nodePaths.resolve(nodePath) else { return }
        let target = try await storageTargets.get(resolved.storage)
        guard target.kind == .webdav, target.agentCredentials == .own else { return }
        if try await agentStorageCredentials.credential(agentId: agentId, target: target) == nil {
            throw AgentStorageCredentials.missing(agentId: agentId, target: target.name)
        }
    }

    /// Builds an agent's configuration from the catalog as it is now (node path → storage by longest
    /// prefix; recording rules field by field; active recording keys). `builtinURL` and `builtinCAPEM` describe this collector's own store.
    public func configuration(for agent: Agents.Agent, builtinURL: String, builtinCAPEM: String?) async throws
        -> AgentConfigurationDocument
    {
        guard let nodePath = try await nodePaths.resolve(agent.nodePath) else {
            throw CollectorError(
                .notFound,
                "no node path covers \(agent.nodePath); an admin must add one (or /) before this agent can record")
        }
        let target = try await storageTargets.get(nodePath.storage)
        let storage: AgentConfigurationDocument.Storage
        switch target.kind {
        case .builtin:
            storage = .init(url: builtinURL, auth: .agentToken, caPEM: builtinCAPEM)
        case .webdav:
            var username = target.username
            var secret: String?
            if let own = try await agentStorageCredentials.credential(agentId: agent.id, target: target) {
                (username, secret) = (own.username, own.secret)
            } else if target.agentCredentials == .own {
                throw AgentStorageCredentials.missing(agentId: agent.id, target: target.name)
            } else {
                secret = try await storageTargets.secret(of: target.name)
            }
            let auth: AgentConfigurationDocument.StorageAuthentication =
                switch target.auth {
                case .none: .none
                case .basic: .basic
                case .digest: .digest
                case .bearer: .bearer
                }
            storage = .init(
                url: target.url ?? "", auth: auth, username: username,
                password: target.auth == .basic || target.auth == .digest ? secret : nil,
                bearerToken: target.auth == .bearer ? secret : nil, caPEM: target.caPEM)
        }
        let recipients = try await recordingKeys.active().map(\.certificatePEM)
        return AgentConfigurationDocument(
            agentId: agent.id, nodePath: agent.nodePath, storageTarget: target.name, storage: storage,
            recipientCertificatesPEM: recipients, recordingRules: try await nodePaths.rules(for: agent.nodePath).rules)
    }
}
