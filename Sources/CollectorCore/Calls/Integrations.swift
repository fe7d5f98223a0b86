import Foundation
import RecorderCore
import SQLKit

/// Who may post call events: each phone system or middleware gets an integration with a token of its
/// own (`rci_…`, shown once, stored as its SHA-256, compared in constant time), created and revoked by
/// an admin, audited.
public struct Integrations: Sendable {
    let catalog: Catalog

    /// How an integration's posts are read: our own contract (`webhook`), or a phone system's own
    /// payloads through its adapter (`Adapters/`).
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case webhook
        case amazonConnect = "amazon-connect"
        case genesysCloud = "genesys-cloud"
        public init(from decoder: any Decoder) throws { self = try StrictJSON.oneOf(decoder) }
    }

    public struct Integration: Codable, Sendable, Equatable {
        public var name: String
        public var kind: Kind
        /// Workstations may log this integration's agents in at themselves (`AgentIdentities.logIn`).
        public var workstationLogins = false
        public var createdAt: String
        public var createdBy: String
        public var revokedAt: String?

        enum CodingKeys: String, CodingKey {
            case name, kind
            case workstationLogins = "workstation_logins"
            case createdAt = "created_at"
            case createdBy = "created_by"
            case revokedAt = "revoked_at"
        }
    }

    /// Events a workstation's own softphone saw, reported by its agent (`POST /api/v1/agent/call-events`):
    /// one integration per workstation, so event ids of two agents never meet. Not a row: it has no
    /// token, and `:` is outside the names admins can give, so none of theirs can take it.
    public static func workstation(_ agentId: String) -> Integration {
        Integration(name: workstationPrefix + agentId, kind: .webhook, createdAt: "", createdBy: "agent:\(agentId)")
    }

    public static let workstationPrefix = "workstation:"

    /// The workstation whose own calls an integration holds (`workstation:{id}`), nil for a phone system's.
    public static func workstationId(of integration: String) -> String? {
        integration.hasPrefix(workstationPrefix) ? String(integration.dropFirst(workstationPrefix.count)) : nil
    }

    /// Creates an integration; the token is returned this once.
    public func create(name: String, kind: Kind, workstationLogins: Bool = false, by actor: Actor) async throws
        -> (integration: Integration, token: String)
    {
        try StorageTargets.validateName(name, what: "integration")
        let token = BearerToken.make(prefix: "rci")
        let integration = Integration(
            name: name, kind: kind, workstationLogins: workstationLogins, createdAt: Timestamp.now(), createdBy: actor.name)
        try await catalog.transaction { database in
            guard try await database.raw("SELECT name FROM integrations WHERE name = \(bind: name)").first() == nil else {
                throw CollectorError(.conflict, "integration \"\(name)\" exists already; revoke it and create another name")
            }
            try await database.raw(
                """
                INSERT INTO integrations (name, kind, token_hash, created_at, created_by, workstation_logins)
                VALUES (\(bind: name), \(bind: kind.rawValue), \(bind: BearerToken.hash(token)), \(bind: integration.createdAt),
                        \(bind: actor.name), \(bind: workstationLogins ? 1 : 0))
                """
            ).run()
            try await AuditLog.record(
                "integration.create", target: "integration:\(name)",
                detail: "\(kind.rawValue)\(workstationLogins ? ", workstation logins allowed" : "")", by: actor, in: database)
        }
        return (integration, token)
    }

    /// Revokes at once: the next post with its token gets 401.
    public func revoke(_ name: String, by actor: Actor) async throws {
        try await catalog.transaction { database in
            let revoked = try await database.raw(
                "UPDATE integrations SET revoked_at = \(bind: Timestamp.now()) WHERE name = \(bind: name) AND revoked_at IS NULL RETURNING name"
            ).all()
            guard !revoked.isEmpty else {
                throw CollectorError(.notFound, "no active integration \"\(name)\" (list them: recorder-collector admin integration list)")
            }
            try await AuditLog.record("integration.revoke", target: "integration:\(name)", by: actor, in: database)
        }
    }

    public func list() async throws -> [Integration] {
        try await catalog.sql.raw("SELECT * FROM integrations ORDER BY name").all().map(Integrations.integration)
    }

    /// The active integration a token belongs to, or nil.
    public func integration(forToken token: String) async throws -> Integration? {
        guard
            let row = try await catalog.sql.raw(
                "SELECT * FROM integrations WHERE token_hash = \(bind: BearerToken.hash(token)) AND revoked_at IS NULL"
            ).first(),
            BearerToken.matches(token, hash: try row.decode(column: "token_hash", as: String.self))
        else { return nil }
        return try Integrations.integration(row)
    }

    static func integration(_ row: any SQLRow) throws -> Integration {
        Integration(
            name: try row.decode(column: "name", as: String.self),
            kind: Kind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .webhook,
            workstationLogins: try row.decode(column: "workstation_logins", as: Int.self) != 0,
            createdAt: try row.decode(column: "created_at", as: String.self),
            createdBy: try row.decode(column: "created_by", as: String.self),
            revokedAt: try row.decode(column: "revoked_at", as: String?.self))
    }
}
