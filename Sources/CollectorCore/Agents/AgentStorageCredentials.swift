import Foundation
import RecorderCore
import SQLKit

/// An agent's own account on an external WebDAV target, given to that agent instead of the target's
/// shared one. With shared credentials any agent of the node path could overwrite or delete another's
/// files on that server; with one account per agent, the server's own rules (e.g. Apache
/// `<LocationMatch>` with `Require user`) can keep each agent to its own directory. A target with
/// `agent_credentials: own` serves only agents that have one, and an agent id can be given its account
/// before it enrols (enrolment on such a target is refused, its code unspent, until it has one).
/// Secrets are sealed like the target's (`SecretBox`) and never returned; each row remembers the
/// target's auth kind it was made for, so a target switched from basic to bearer never sends a
/// password as a token.
public struct AgentStorageCredentials: Sendable {
    let catalog: Catalog
    let secrets: SecretBox
    let storageTargets: StorageTargets

    /// What an admin sends: `username` and `password` for basic and digest targets, `bearer_token`
    /// for bearer ones.
    public struct Input: Codable, Sendable, Equatable {
        public var username: String?
        public var password: String?
        public var bearerToken: String?

        public init(username: String? = nil, password: String? = nil, bearerToken: String? = nil) {
            self.username = username
            self.password = password
            self.bearerToken = bearerToken
        }

        enum CodingKeys: String, CodingKey {
            case username, password
            case bearerToken = "bearer_token"
        }
    }

    /// What is on record (never the secret).
    public struct Record: Codable, Sendable, Equatable {
        public var agentId: String
        public var storageTarget: String
        public var username: String?
        public var createdAt: String
        public var updatedAt: String

        enum CodingKeys: String, CodingKey {
            case username
            case agentId = "agent_id"
            case storageTarget = "storage_target"
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }
    }

    /// The credential an agent's configuration carries.
    struct Credential {
        var username: String?
        var secret: String
    }

    static func missing(agentId: String, target: String) -> CollectorError {
        CollectorError(
            .conflict,
            "agent \(agentId) has no credentials of its own for storage target \(target), whose agents must use their own; an admin must set them (recorder-collector admin agent storage-credentials set \(agentId) \(target) --username NAME --secret-stdin)"
        )
    }

    static let maxUsernameLength = 256
    static let maxSecretBytes = 4096

    public func set(agentId: String, target name: String, _ input: Input, by actor: Actor) async throws -> Record {
        try Agents.validateAgentId(agentId)
        let target = try await storageTargets.get(name)
        guard target.kind == .webdav, target.auth != .none else {
            throw CollectorError(
                .invalid,
                "storage target \"\(name)\" takes no credentials (\(target.kind == .builtin ? "the built-in store uses the agent's own token" : "its auth is none"))"
            )
        }
        let secret: String
        switch target.auth {
        case .basic, .digest:
            guard let username = input.username, let password = input.password, input.bearerToken == nil else {
                throw CollectorError(.invalid, "storage target \"\(name)\" uses \(target.auth.rawValue): give username and password")
            }
            guard (1...Self.maxUsernameLength).contains(username.unicodeScalars.count),
                !username.unicodeScalars.contains(where: OutsideText.isUnsafe),
                target.auth != .basic || !username.contains(":")
            else {
                throw CollectorError(
                    .invalid,
                    "username: 1–\(Self.maxUsernameLength) characters, no control characters\(target.auth == .basic ? ", no ':'" : "")")
            }
            secret = password
        case .bearer:
            guard let token = input.bearerToken, input.username == nil, input.password == nil else {
                throw CollectorError(.invalid, "storage target \"\(name)\" uses bearer: give bearer_token only")
            }
            secret = token
        case .none: fatalError("refused above")
        }
        // A control character would end the header early (NUL) or start another one (CR/LF).
        guard (1...Self.maxSecretBytes).contains(secret.utf8.count),
            !secret.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw CollectorError(
                .invalid, "the password or token must be 1–\(Self.maxSecretBytes) bytes without control characters")
        }
        let sealed = try secrets.seal(secret)
        let now = Timestamp.now()
        let username = target.auth == .bearer ? nil : input.username
        return try await catalog.transaction { database in
            let existing = try await database.raw(
                "SELECT created_at FROM agent_storage_credentials WHERE agent_id = \(bind: agentId) AND storage_target = \(bind: name)"
            ).first()?.decode(column: "created_at", as: String.self)
            if existing == nil {
                try await database.raw(
                    """
                    INSERT INTO agent_storage_credentials (agent_id, storage_target, auth, username, sealed_secret, created_at, updated_at)
                    VALUES (\(bind: agentId), \(bind: name), \(bind: target.auth.rawValue), \(bind: username), \(bind: sealed),
                            \(bind: now), \(bind: now))
                    """
                ).run()
            } else {
                try await database.raw(
                    """
                    UPDATE agent_storage_credentials SET auth = \(bind: target.auth.rawValue), username = \(bind: username),
                        sealed_secret = \(bind: sealed), updated_at = \(bind: now)
                    WHERE agent_id = \(bind: agentId) AND storage_target = \(bind: name)
                    """
                ).run()
            }
            try await AuditLog.record(
                existing == nil ? "agent.storage_credentials.set" : "agent.storage_credentials.replace",
                target: "agent:\(agentId)", detail: "storage \(name)\(username.map { " user \($0)" } ?? "")",
                by: actor, in: database)
            return Record(
                agentId: agentId, storageTarget: name, username: username, createdAt: existing ?? now, updatedAt: now)
        }
    }

    public func remove(agentId: String, target name: String, by actor: Actor) async throws {
        try await catalog.transaction { database in
            let removed = try await database.raw(
                "DELETE FROM agent_storage_credentials WHERE agent_id = \(bind: agentId) AND storage_target = \(bind: name) RETURNING agent_id"
            ).all()
            guard !removed.isEmpty else {
                throw CollectorError(.notFound, "agent \(agentId) has no credentials of its own for storage \(name)")
            }
            try await AuditLog.record(
                "agent.storage_credentials.remove", target: "agent:\(agentId)", detail: "storage \(name)", by: actor,
                in: database)
        }
    }

    public func list(agentId: String? = nil) async throws -> [Record] {
        let rows =
            if let agentId {
                try await catalog.sql.raw(
                    "SELECT * FROM agent_storage_credentials WHERE agent_id = \(bind: agentId) ORDER BY storage_target"
                ).all()
            } else {
                try await catalog.sql.raw(
                    "SELECT * FROM agent_storage_credentials ORDER BY agent_id, storage_target"
                ).all()
            }
        return try rows.map { row in
            Record(
                agentId: try row.decode(column: "agent_id", as: String.self),
                storageTarget: try row.decode(column: "storage_target", as: String.self),
                username: try row.decode(column: "username", as: String?.self),
                createdAt: try row.decode(column: "created_at", as: String.self),
                updatedAt: try row.decode(column: "updated_at", as: String.self))
        }
    }

    /// The agent's own account for `target`, or nil when it has none; a row made for another auth kind
    /// than the target's now is refused (409), not sent.
    func credential(agentId: String, target: StorageTargetRecord) async throws -> Credential? {
        guard
            let row = try await catalog.sql.raw(
                "SELECT auth, username, sealed_secret FROM agent_storage_credentials WHERE agent_id = \(bind: agentId) AND storage_target = \(bind: target.name)"
            ).first()
        else { return nil }
        let auth = try row.decode(column: "auth", as: String.self)
        guard auth == target.auth.rawValue else {
            throw CollectorError(
                .conflict,
                "agent \(agentId)'s own credentials for storage target \(target.name) were made for auth \(auth), and the target now uses \(target.auth.rawValue); an admin must set them again (recorder-collector admin agent storage-credentials set \(agentId) \(target.name) …)"
            )
        }
        return Credential(
            username: try row.decode(column: "username", as: String?.self),
            secret: try secrets.open(try row.decode(column: "sealed_secret", as: String.self)))
    }
}
