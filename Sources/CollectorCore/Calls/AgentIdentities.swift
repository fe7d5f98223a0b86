import Foundation
import RecorderCore
import SQLKit

/// Where a phone system's agent sits: its identity in that system (a Genesys userId, a Connect agent
/// ARN, an extension) mapped to the workstation (enrolled agent) the person is logged in at now, per
/// integration. Admins maintain it; hot-desking moves a person by setting the mapping again.
public struct AgentIdentities: Sendable {
    let catalog: Catalog

    public struct Identity: Codable, Sendable, Equatable {
        public var integration: String
        public var externalId: String
        public var agentId: String
        public var updatedAt: String
        public var updatedBy: String

        enum CodingKeys: String, CodingKey {
            case integration
            case externalId = "external_id"
            case agentId = "agent_id"
            case updatedAt = "updated_at"
            case updatedBy = "updated_by"
        }
    }

    /// Maps `externalId` of `integration` to the enrolled agent `agentId` (replacing where it sat).
    public func set(integration: String, externalId: String, agentId: String, by actor: Actor) async throws
        -> Identity
    {
        guard (1...256).contains(externalId.unicodeScalars.count),
            !externalId.unicodeScalars.contains(where: OutsideText.isUnsafe)
        else {
            throw CollectorError(
                .invalid, "external_id (the phone system's agent identity) must be 1–256 visible characters")
        }
        let identity = Identity(
            integration: integration, externalId: externalId, agentId: agentId, updatedAt: Timestamp.now(),
            updatedBy: actor.name)
        try await catalog.transaction { database in
            guard
                try await database.raw(
                    "SELECT name FROM integrations WHERE name = \(bind: integration) AND revoked_at IS NULL"
                ).first() != nil
            else {
                throw CollectorError(
                    .notFound, "integration: no active integration \"\(OutsideText.bounded(integration, limit: 80))\"")
            }
            guard
                try await database.raw(
                    "SELECT id FROM agents WHERE id = \(bind: agentId) AND revoked_at IS NULL"
                ).first() != nil
            else { throw CollectorError(.notFound, "agent_id: no enrolled agent \(OutsideText.bounded(agentId, limit: 80))") }
            try await database.raw(
                "DELETE FROM agent_identities WHERE integration = \(bind: integration) AND external_id = \(bind: externalId)"
            ).run()
            try await database.raw(
                """
                INSERT INTO agent_identities (integration, external_id, agent_id, updated_at, updated_by)
                VALUES (\(bind: integration), \(bind: externalId), \(bind: agentId), \(bind: identity.updatedAt), \(bind: actor.name))
                """
            ).run()
            try await AuditLog.record(
                "agent_identity.set", target: "agent:\(agentId)", detail: "\(integration) \(externalId)", by: actor,
                in: database)
        }
        return identity
    }

    public func list(integration: String? = nil) async throws -> [Identity] {
        let rows =
            if let integration {
                try await catalog.sql.raw(
                    "SELECT * FROM agent_identities WHERE integration = \(bind: integration) ORDER BY external_id"
                ).all()
            } else {
                try await catalog.sql.raw("SELECT * FROM agent_identities ORDER BY integration, external_id").all()
            }
        return try rows.map { row in
            Identity(
                integration: try row.decode(column: "integration", as: String.self),
                externalId: try row.decode(column: "external_id", as: String.self),
                agentId: try row.decode(column: "agent_id", as: String.self),
                updatedAt: try row.decode(column: "updated_at", as: String.self),
                updatedBy: try row.decode(column: "updated_by", as: String.self))
        }
    }

    /// The workstation `externalId` sits at, within a transaction.
    /// A workstation says that `externalId` of `integration` sits at it now: a softphone's login on
    /// it, relayed by its agent. Allowed only for integrations whose admin turned workstation logins on
    /// (a workstation could otherwise pull someone else's calls to itself); audited either way.
    public func logIn(integration: String, externalId: String, at workstation: String, source: String) async throws
        -> Identity
    {
        let actor = Actor(name: "agent:\(workstation)", source: source)
        let allowed =
            try await catalog.sql.raw(
                "SELECT workstation_logins FROM integrations WHERE name = \(bind: integration) AND revoked_at IS NULL"
            ).first()?.decode(column: "workstation_logins", as: Int.self)
        guard let allowed else {
            throw CollectorError(.notFound, "integration: no active integration \"\(OutsideText.bounded(integration, limit: 80))\"")
        }
        guard allowed != 0 else {
            try await catalog.transaction { database in
                try await AuditLog.record(
                    "agent_identity.login_refused", target: "integration:\(integration)",
                    detail: "\(OutsideText.bounded(externalId)) at \(workstation)", by: actor, in: database)
            }
            throw CollectorError(
                .forbidden,
                "integration \(integration) does not let workstations log agents in; an admin maps them (admin integration map) or allows it (admin integration add … --workstation-logins)")
        }
        return try await set(integration: integration, externalId: externalId, agentId: workstation, by: actor)
    }

    static func workstation(
        integration: String, externalId: String, in database: any SQLDatabase
    ) async throws -> String? {
        // A revoked workstation gets nothing: its events count as unrouted, for the admin to map again.
        try await database.raw(
            """
            SELECT i.agent_id FROM agent_identities i JOIN agents a ON a.id = i.agent_id
            WHERE i.integration = \(bind: integration) AND i.external_id = \(bind: externalId) AND a.revoked_at IS NULL
            """
        ).first()?.decode(column: "agent_id", as: String.self)
    }
}
