import Crypto
import Foundation
import SQLKit

/// Workstations: enrolled with a one-time code an admin made for a node path, identified afterwards
/// by a per-agent bearer token (stored as SHA-256), revocable at once. The agent's Ed25519 public key,
/// registered at enrolment, is what its manifests are verified with.
public struct Agents: Sendable {
    public struct Agent: Codable, Sendable, Equatable {
        public var id: String
        public var nodePath: String
        public var hostname: String
        public var signingKey: String
        public var enrolledAt: String
        public var revokedAt: String?
        public var lastSeenAt: String?
        /// Filled in the admin's agent list: the last heartbeat, judged.
        public var health: AgentHealth?
        /// Filled in the admin's agent list: how its segments chain.
        public var segments: Segments.ChainSummary?

        enum CodingKeys: String, CodingKey {
            case id, hostname, health, segments
            case nodePath = "node_path"
            case signingKey = "signing_key"
            case enrolledAt = "enrolled_at"
            case revokedAt = "revoked_at"
            case lastSeenAt = "last_seen_at"
        }
    }

    public struct EnrolmentCode: Codable, Sendable {
        public var code: String
        public var nodePath: String
        public var expiresAt: String

        enum CodingKeys: String, CodingKey {
            case code
            case nodePath = "node_path"
            case expiresAt = "expires_at"
        }
    }

    let catalog: Catalog

    public init(catalog: Catalog) {
        self.catalog = catalog
    }

    /// A one-time code for one workstation at `nodePath`, valid for `hours` (1 h – 30 days).
    public func makeCode(nodePath: String, hours: Int = 24, by actor: Actor) async throws -> EnrolmentCode {
        try NodePaths.validate(nodePath)
        guard (1...720).contains(hours) else {
            throw CollectorError(.invalid, "expires_in_hours must be between 1 and 720, found \(hours)")
        }
        let code = Agents.humanCode()
        let now = Date()
        let expires = Timestamp.string(now.addingTimeInterval(Double(hours) * 3600))
        try await catalog.transaction { database in
            try await database.raw(
                """
                INSERT INTO enrolment_codes (code_hash, node_path, created_at, expires_at, created_by)
                VALUES (\(bind: BearerToken.hash(Agents.normalize(code))), \(bind: nodePath), \(bind: Timestamp.string(now)),
                        \(bind: expires), \(bind: actor.name))
                """
            ).run()
            try await AuditLog.record(
                "enrolment_code.create", target: "node_path:\(nodePath)", detail: "expires \(expires)", by: actor,
                in: database)
        }
        return EnrolmentCode(code: code, nodePath: nodePath, expiresAt: expires)
    }

    /// Exchanges a code for an agent token. The code is spent in the same transaction that registers
    /// the agent, so a reused, expired or unknown code changes nothing.
    /// `beforeSpending` runs with the code's node path once the code is known to be valid and before
    /// anything is written: a check that fails there (e.g. storage the agent could not use) leaves the
    /// code unspent.
    public func enrol(
        code: String, agentId: String, hostname: String, signingKey: String, source: String,
        beforeSpending: @Sendable (_ nodePath: String) async throws -> Void = { _ in }
    ) async throws -> (token: String, agent: Agent) {
        try Agents.validateAgentId(agentId)
        guard let raw = Data(base64Encoded: signingKey), raw.count == 32,
            (try? Curve25519.Signing.PublicKey(rawRepresentation: raw)) != nil
        else {
            throw CollectorError(.invalid, "signing_key must be the agent's Ed25519 public key, 32 bytes in base64")
        }
        let hostname = String(hostname.prefix(253))
        let token = BearerToken.make(prefix: "rca")
        let now = Timestamp.now()
        let codeHash = BearerToken.hash(Agents.normalize(code))
        // Outside the transaction (SQLite has one connection, held by a transaction); the
        // transaction checks the code again.
        if let nodePath = try await catalog.sql.raw(
            "SELECT node_path FROM enrolment_codes WHERE code_hash = \(bind: codeHash) AND used_at IS NULL AND expires_at > \(bind: now)"
        ).first()?.decode(column: "node_path", as: String.self) {
            try await beforeSpending(nodePath)
        }
        let agent = try await catalog.transaction { database -> Agent in
            guard
                let row = try await database.raw(
                    "SELECT node_path, expires_at, used_at FROM enrolment_codes WHERE code_hash = \(bind: codeHash)"
                ).first()
            else {
                throw CollectorError(.unauthorized, "unknown enrolment code; ask an admin for a new one")
            }
            guard try row.decode(column: "used_at", as: String?.self) == nil else {
                throw CollectorError(.unauthorized, "this enrolment code was used already; ask an admin for a new one")
            }
            guard try row.decode(column: "expires_at", as: String.self) > now else {
                throw CollectorError(.unauthorized, "this enrolment code has expired; ask an admin for a new one")
            }
            let nodePath = try row.decode(column: "node_path", as: String.self)
            // An agent id stays bound to the key it first enrolled with: a revoked id comes back only
            // when an admin allows it (audited), and its rows and old keys are kept, never deleted.
            let existing = try await database.raw(
                "SELECT revoked_at, reenrolment_allowed_at FROM agents WHERE id = \(bind: agentId)"
            ).first()
            if let existing {
                guard try existing.decode(column: "revoked_at", as: String?.self) != nil else {
                    throw CollectorError(
                        .conflict,
                        "agent \(agentId) is enrolled already; an admin must revoke it first (or enrol under another agent id)"
                    )
                }
                guard try existing.decode(column: "reenrolment_allowed_at", as: String?.self) != nil else {
                    throw CollectorError(
                        .conflict,
                        "agent id \(agentId) was revoked; enrolling it again is an admin's decision (recorder-collector admin agent allow-reenrolment \(agentId)), or enrol under another agent id"
                    )
                }
                // One admin permission, one re-enrolment, even when two race.
                guard
                    try await database.raw(
                        """
                        UPDATE agents SET node_path = \(bind: nodePath), token_hash = \(bind: BearerToken.hash(token)),
                            signing_key = \(bind: signingKey), hostname = \(bind: hostname), enrolled_at = \(bind: now),
                            revoked_at = NULL, reenrolment_allowed_at = NULL, last_seen_at = NULL
                        WHERE id = \(bind: agentId) AND revoked_at IS NOT NULL AND reenrolment_allowed_at IS NOT NULL
                        RETURNING id
                        """
                    ).first() != nil
                else {
                    throw CollectorError(.conflict, "agent \(agentId) was re-enrolled by another request just now")
                }
                try await database.raw(
                    "UPDATE agent_keys SET retired_at = \(bind: now) WHERE agent_id = \(bind: agentId) AND retired_at IS NULL"
                ).run()
                try await database.raw(
                    "DELETE FROM agent_keys WHERE agent_id = \(bind: agentId) AND signing_key = \(bind: signingKey)"
                ).run()
            } else {
                // Ids name folders, and "WS-7" beside "ws-7" would be two agents in one folder on a
                // case-blind file system, and two names a person reads as one.
                if let twin = try await database.raw(
                    "SELECT id FROM agents WHERE lower(id) = \(bind: agentId.lowercased()) LIMIT 1"
                ).first()?.decode(column: "id", as: String.self) {
                    throw CollectorError(
                        .conflict, "agent id \(agentId) differs from the enrolled \(twin) only in case; enrol under another agent id")
                }
                try await database.raw(
                    """
                    INSERT INTO agents (id, node_path, token_hash, signing_key, hostname, enrolled_at)
                    VALUES (\(bind: agentId), \(bind: nodePath), \(bind: BearerToken.hash(token)), \(bind: signingKey),
                            \(bind: hostname), \(bind: now))
                    """
                ).run()
            }
            try await database.raw(
                """
                INSERT INTO agent_keys (agent_id, signing_key, enrolled_at)
                VALUES (\(bind: agentId), \(bind: signingKey), \(bind: now))
                """
            ).run()
            // Claimed only if still unspent: two enrolments racing with one code (PostgreSQL, READ
            // COMMITTED) cannot both succeed.
            guard
                try await database.raw(
                    """
                    UPDATE enrolment_codes SET used_at = \(bind: now), used_by = \(bind: agentId)
                    WHERE code_hash = \(bind: codeHash) AND used_at IS NULL RETURNING code_hash
                    """
                ).first() != nil
            else {
                throw CollectorError(.unauthorized, "this enrolment code was used already; ask an admin for a new one")
            }
            try await AuditLog.record(
                existing == nil ? "agent.enrol" : "agent.reenrol", target: "agent:\(agentId)",
                detail: "node path \(nodePath), host \(hostname)",
                by: Actor(name: "agent:\(agentId)", source: source), in: database)
            return Agent(
                id: agentId, nodePath: nodePath, hostname: hostname, signingKey: signingKey, enrolledAt: now,
                revokedAt: nil, lastSeenAt: nil)
        }
        return (token, agent)
    }

    /// The active agent holding `token`, or nil (unknown or revoked).
    public func agent(forToken token: String) async throws -> Agent? {
        guard
            let row = try await catalog.sql.raw(
                "SELECT * FROM agents WHERE token_hash = \(bind: BearerToken.hash(token)) AND revoked_at IS NULL"
            ).first(),
            BearerToken.matches(token, hash: try row.decode(column: "token_hash", as: String.self))
        else { return nil }
        return try Agents.agent(row)
    }

    public func list() async throws -> [Agent] {
        try await catalog.sql.raw("SELECT * FROM agents ORDER BY id").all().map(Agents.agent)
    }

    public func get(_ id: String) async throws -> Agent {
        guard let row = try await catalog.sql.raw("SELECT * FROM agents WHERE id = \(bind: id)").first() else {
            throw CollectorError(.notFound, "no agent \(id)")
        }
        return try Agents.agent(row)
    }

    /// Revokes at once: the next request with the agent's token gets 401.
    public func revoke(_ id: String, by actor: Actor) async throws {
        let agent = try await get(id)
        guard agent.revokedAt == nil else { throw CollectorError(.conflict, "agent \(id) is revoked already") }
        try await catalog.transaction { database in
            try await database.raw("UPDATE agents SET revoked_at = \(bind: Timestamp.now()) WHERE id = \(bind: id)")
                .run()
            try await AuditLog.record("agent.revoke", target: "agent:\(id)", by: actor, in: database)
        }
    }

    /// Lets a revoked agent id enrol once more (with a new code and a new key); its old keys stay on
    /// record, so its earlier manifests still verify.
    public func allowReenrolment(_ id: String, by actor: Actor) async throws {
        let agent = try await get(id)
        guard agent.revokedAt != nil else {
            throw CollectorError(.conflict, "agent \(id) is active; revoke it first if its workstation must enrol again")
        }
        try await catalog.transaction { database in
            try await database.raw(
                "UPDATE agents SET reenrolment_allowed_at = \(bind: Timestamp.now()) WHERE id = \(bind: id)"
            ).run()
            try await AuditLog.record("agent.allow_reenrolment", target: "agent:\(id)", by: actor, in: database)
        }
    }

    /// Every key an agent id has enrolled with, oldest first: what its manifests may be signed with.
    public func keyHistory() async throws -> [String: [String]] {
        var history: [String: [String]] = [:]
        for row in try await catalog.sql.raw(
            "SELECT agent_id, signing_key FROM agent_keys ORDER BY enrolled_at"
        ).all() {
            history[try row.decode(column: "agent_id", as: String.self), default: []].append(
                try row.decode(column: "signing_key", as: String.self))
        }
        return history
    }

    /// Agent ids name storage directories: the same strict alphabet as storage components.
    static func validateAgentId(_ id: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.".unicodeScalars)
        guard (1...64).contains(id.count), !id.hasPrefix("."), id.unicodeScalars.allSatisfy({ allowed.contains($0) })
        else {
            throw CollectorError(
                .invalid,
                "agent_id \"\(id)\": use 1–64 letters, digits, - _ . (not starting with .), e.g. the host name")
        }
        // Its folder would be the day's voice recordings (`{node}/{yyyy}/{mm}/{dd}/voice/`).
        guard id.lowercased() != Collector.voiceFolder else {
            throw CollectorError(.invalid, "agent_id \"\(id)\" is the name of the voice recordings' folder; choose another")
        }
    }

    /// 16 characters from an alphabet without look-alikes (80 bits), grouped for reading aloud.
    static func humanCode() -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<16).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
        return stride(from: 0, to: 16, by: 4).map { String(characters[$0..<$0 + 4]) }.joined(separator: "-")
    }

    /// Codes are compared without dashes, spaces or case, as people type them.
    static func normalize(_ code: String) -> String {
        code.uppercased().filter { $0.isLetter || $0.isNumber }
    }

    static func agent(_ row: any SQLRow) throws -> Agent {
        Agent(
            id: try row.decode(column: "id", as: String.self),
            nodePath: try row.decode(column: "node_path", as: String.self),
            hostname: try row.decode(column: "hostname", as: String.self),
            signingKey: try row.decode(column: "signing_key", as: String.self),
            enrolledAt: try row.decode(column: "enrolled_at", as: String.self),
            revokedAt: try row.decode(column: "revoked_at", as: String?.self),
            lastSeenAt: try row.decode(column: "last_seen_at", as: String?.self))
    }
}
