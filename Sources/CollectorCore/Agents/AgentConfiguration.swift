import Foundation
import RecorderCore

extension Collector {
    /// Builds an agent's configuration from the catalog as it is now (node path → storage by longest
    /// prefix; active recording keys). `builtinURL` and `builtinCAPEM` describe this collector's own store.
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
            if let own = try await agentStorageCredentials.credential(agentId: agent.id, target: target.name) {
                (username, secret) = (own.username, own.secret)
            } else if target.agentCredentials == .own {
                throw CollectorError(
                    .conflict,
                    "agent \(agent.id) has no credentials of its own for storage target \(target.name), whose agents must use their own; an admin must set them (recorder-collector admin agent storage-credentials set \(agent.id) \(target.name) --username NAME --secret-stdin)"
                )
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
            recipientCertificatesPEM: recipients)
    }
}
