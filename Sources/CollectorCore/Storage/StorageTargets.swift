import Foundation
import RecorderCore
import SQLKit

/// Where node paths store their segments: the collector's built-in WebDAV store, or an external
/// WebDAV/HTTPS server with credentials. Credentials are sealed (`SecretBox`) before they are written
/// and never returned by the API; `has_secret` says whether one is set.
public struct StorageTargetRecord: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case builtin, webdav
        public init(from decoder: any Decoder) throws { self = try StrictJSON.oneOf(decoder) }
    }
    public enum Authentication: String, Codable, Sendable, CaseIterable {
        case none, basic, digest, bearer
        public init(from decoder: any Decoder) throws { self = try StrictJSON.oneOf(decoder) }
    }
    /// Which account agents upload with: `shared`, the target's own unless an agent has one of its own
    /// (`AgentStorageCredentials`); `own`, only their own (the target's account then serves the
    /// collector alone: tests, read-back, reindex, verify-storage).
    public enum AgentCredentials: String, Codable, Sendable, CaseIterable {
        case shared, own
        public init(from decoder: any Decoder) throws { self = try StrictJSON.oneOf(decoder) }
    }

    public var name: String
    public var kind: Kind
    public var url: String?
    public var auth: Authentication
    public var username: String?
    public var hasSecret: Bool
    public var caPEM: String?
    public var agentCredentials: AgentCredentials = .shared
    public var createdAt: String
    public var updatedAt: String

    enum CodingKeys: String, CodingKey {
        case name, kind, url, auth, username
        case hasSecret = "has_secret"
        case caPEM = "ca_pem"
        case agentCredentials = "agent_credentials"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// What an admin sends to create or change a storage target. `password`/`bearer_token` are write-only.
public struct StorageTargetInput: Codable, Sendable, Equatable {
    public var name: String?
    public var kind: StorageTargetRecord.Kind?
    public var url: String?
    public var auth: StorageTargetRecord.Authentication?
    public var username: String?
    public var password: String?
    public var bearerToken: String?
    public var caPEM: String?
    public var agentCredentials: StorageTargetRecord.AgentCredentials?

    public init(
        name: String? = nil, kind: StorageTargetRecord.Kind? = nil, url: String? = nil,
        auth: StorageTargetRecord.Authentication? = nil, username: String? = nil, password: String? = nil,
        bearerToken: String? = nil, caPEM: String? = nil, agentCredentials: StorageTargetRecord.AgentCredentials? = nil
    ) {
        self.agentCredentials = agentCredentials
        self.name = name
        self.kind = kind
        self.url = url
        self.auth = auth
        self.username = username
        self.password = password
        self.bearerToken = bearerToken
        self.caPEM = caPEM
    }

    enum CodingKeys: String, CodingKey {
        case name, kind, url, auth, username, password
        case bearerToken = "bearer_token"
        case caPEM = "ca_pem"
        case agentCredentials = "agent_credentials"
    }
}

public struct StorageTargets: Sendable {
    public static let builtinName = "builtin"
    let catalog: Catalog
    let secrets: SecretBox

    public init(catalog: Catalog, secrets: SecretBox) {
        self.catalog = catalog
        self.secrets = secrets
    }

    public func list() async throws -> [StorageTargetRecord] {
        try await catalog.sql.raw("SELECT * FROM storage_targets ORDER BY name").all().map(StorageTargets.record)
    }

    public func get(_ name: String) async throws -> StorageTargetRecord {
        guard let row = try await catalog.sql.raw("SELECT * FROM storage_targets WHERE name = \(bind: name)").first()
        else {
            throw CollectorError(
                .notFound, "no storage target \"\(name)\" (list them with GET /api/v1/admin/storage-targets)")
        }
        return try StorageTargets.record(row)
    }

    public func create(_ input: StorageTargetInput, by actor: Actor) async throws -> StorageTargetRecord {
        guard let name = input.name else { throw CollectorError(.invalid, "name is required") }
        try StorageTargets.validateName(name)
        let (record, sealed) = try validated(input, name: name, existing: nil)
        try await catalog.transaction { database in
            guard try await database.raw("SELECT name FROM storage_targets WHERE name = \(bind: name)").first() == nil
            else { throw CollectorError(.conflict, "storage target \"\(name)\" exists already; change it with PUT") }
            try await database.raw(
                """
                INSERT INTO storage_targets (name, kind, url, auth, username, sealed_secret, ca_pem, agent_credentials, created_at, updated_at)
                VALUES (\(bind: name), \(bind: record.kind.rawValue), \(bind: record.url), \(bind: record.auth.rawValue),
                        \(bind: record.username), \(bind: sealed), \(bind: record.caPEM), \(bind: record.agentCredentials.rawValue),
                        \(bind: record.createdAt), \(bind: record.updatedAt))
                """
            ).run()
            try await AuditLog.record(
                "storage.create", target: "storage:\(name)", detail: StorageTargets.summary(record), by: actor,
                in: database)
        }
        return record
    }

    /// Changes the given fields; a missing password/token keeps the stored one.
    public func update(_ name: String, _ input: StorageTargetInput, by actor: Actor) async throws -> StorageTargetRecord
    {
        guard input.name == nil || input.name == name else {
            throw CollectorError(.invalid, "name cannot be changed (create a new target and move the node paths)")
        }
        let existing = try await get(name)
        let storedSecret = try await catalog.sql.raw(
            "SELECT sealed_secret FROM storage_targets WHERE name = \(bind: name)"
        )
        .first()?.decode(column: "sealed_secret", as: String?.self)
        var (record, sealed) = try validated(input, name: name, existing: (existing, storedSecret))
        record.createdAt = existing.createdAt
        try await catalog.transaction { [record, sealed] database in
            try await database.raw(
                """
                UPDATE storage_targets SET kind = \(bind: record.kind.rawValue), url = \(bind: record.url),
                    auth = \(bind: record.auth.rawValue), username = \(bind: record.username), sealed_secret = \(bind: sealed),
                    ca_pem = \(bind: record.caPEM), agent_credentials = \(bind: record.agentCredentials.rawValue),
                    updated_at = \(bind: record.updatedAt)
                WHERE name = \(bind: name)
                """
            ).run()
            try await AuditLog.record(
                "storage.update", target: "storage:\(name)", detail: StorageTargets.summary(record), by: actor,
                in: database)
        }
        return record
    }

    public func delete(_ name: String, by actor: Actor) async throws {
        _ = try await get(name)
        try await catalog.transaction { database in
            let users = try await database.raw(
                "SELECT path FROM node_paths WHERE storage = \(bind: name) ORDER BY path"
            )
            .all().map { try $0.decode(column: "path", as: String.self) }
            guard users.isEmpty else {
                throw CollectorError(
                    .conflict,
                    "storage target \"\(name)\" is used by node path(s) \(users.joined(separator: ", ")); point them elsewhere first"
                )
            }
            try await database.raw("DELETE FROM agent_storage_credentials WHERE storage_target = \(bind: name)").run()
            try await database.raw("DELETE FROM storage_targets WHERE name = \(bind: name)").run()
            try await AuditLog.record("storage.delete", target: "storage:\(name)", by: actor, in: database)
        }
    }

    /// The stored password or token, decrypted (for the collector's own use: probes, agent config).
    public func secret(of name: String) async throws -> String? {
        guard
            let sealed = try await catalog.sql.raw(
                "SELECT sealed_secret FROM storage_targets WHERE name = \(bind: name)"
            )
            .first()?.decode(column: "sealed_secret", as: String?.self)
        else { return nil }
        return try secrets.open(sealed)
    }

    /// `what` names the thing in the message ("storage target", "integration").
    static func validateName(_ name: String, what: String = "storage target") throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-_.".unicodeScalars)
        guard (1...64).contains(name.count), name.unicodeScalars.allSatisfy({ allowed.contains($0) }) else {
            throw CollectorError(
                .invalid, "\(what) name \"\(OutsideText.bounded(name, limit: 80))\": use 1–64 lower-case letters, digits, - _ .")
        }
    }

    /// Checks one complete target (the input merged over what exists) and seals its secret.
    private func validated(
        _ input: StorageTargetInput, name: String, existing: (record: StorageTargetRecord, sealed: String?)?
    ) throws -> (StorageTargetRecord, String?) {
        let now = Timestamp.now()
        let kind = input.kind ?? existing?.record.kind ?? .webdav
        if kind == .builtin {
            guard input.url == nil, input.username == nil, input.password == nil, input.bearerToken == nil,
                input.agentCredentials == nil || input.agentCredentials == .shared,
                input.auth == nil || input.auth == StorageTargetRecord.Authentication.none
            else {
                throw CollectorError(
                    .invalid, "a builtin target takes no url or credentials (the collector serves it itself)")
            }
            return (
                StorageTargetRecord(
                    name: name, kind: .builtin, url: nil, auth: .none, username: nil, hasSecret: false, caPEM: nil,
                    createdAt: now, updatedAt: now), nil
            )
        }
        guard let url = input.url ?? existing?.record.url else {
            throw CollectorError(.invalid, "url is required for a webdav target, e.g. https://dav.paris.example/recordings")
        }
        guard let parsed = URL(string: url), parsed.scheme == "https", let host = parsed.host, !host.isEmpty,
            parsed.query == nil, parsed.fragment == nil, parsed.user == nil
        else {
            throw CollectorError(
                .invalid, "url \"\(url)\" must be an https:// URL with a host and no query, fragment or user info")
        }
        let auth = input.auth ?? existing?.record.auth ?? .none
        let username = input.username ?? existing?.record.username
        var sealed = existing?.sealed
        if let password = input.password { sealed = try secrets.seal(password) }
        if let token = input.bearerToken { sealed = try secrets.seal(token) }
        if input.auth != nil, input.auth != existing?.record.auth, input.password == nil, input.bearerToken == nil {
            sealed = nil  // a new kind of credential needs its own secret
        }
        switch auth {
        case .none:
            sealed = nil
        case .basic, .digest:
            guard username?.isEmpty == false, sealed != nil else {
                throw CollectorError(.invalid, "auth \(auth.rawValue) needs username and password")
            }
            guard input.bearerToken == nil else { throw CollectorError(.invalid, "bearer_token is only for auth bearer") }
        case .bearer:
            guard sealed != nil else { throw CollectorError(.invalid, "auth bearer needs bearer_token") }
            guard input.password == nil else { throw CollectorError(.invalid, "password is only for auth basic or digest") }
        }
        let agentCredentials = input.agentCredentials ?? existing?.record.agentCredentials ?? .shared
        if agentCredentials == .own, auth == .none {
            throw CollectorError(.invalid, "agent_credentials own needs a target with auth basic, digest or bearer")
        }
        let caPEM = input.caPEM ?? existing?.record.caPEM
        if let caPEM, !caPEM.contains("-----BEGIN CERTIFICATE-----") {
            throw CollectorError(.invalid, "ca_pem must hold PEM certificates (-----BEGIN CERTIFICATE-----)")
        }
        return (
            StorageTargetRecord(
                name: name, kind: .webdav, url: url.hasSuffix("/") ? String(url.dropLast()) : url, auth: auth,
                username: auth == .basic || auth == .digest ? username : nil, hasSecret: sealed != nil, caPEM: caPEM,
                agentCredentials: agentCredentials,
                createdAt: existing?.record.createdAt ?? now, updatedAt: now), sealed
        )
    }

    static func record(_ row: any SQLRow) throws -> StorageTargetRecord {
        StorageTargetRecord(
            name: try row.decode(column: "name", as: String.self),
            kind: StorageTargetRecord.Kind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .webdav,
            url: try row.decode(column: "url", as: String?.self),
            auth: StorageTargetRecord.Authentication(rawValue: try row.decode(column: "auth", as: String.self))
                ?? .none,
            username: try row.decode(column: "username", as: String?.self),
            hasSecret: try row.decode(column: "sealed_secret", as: String?.self) != nil,
            caPEM: try row.decode(column: "ca_pem", as: String?.self),
            agentCredentials: StorageTargetRecord.AgentCredentials(
                rawValue: try row.decode(column: "agent_credentials", as: String.self)) ?? .own,
            createdAt: try row.decode(column: "created_at", as: String.self),
            updatedAt: try row.decode(column: "updated_at", as: String.self))
    }

    /// What the audit log says about a target: never the secret.
    static func summary(_ record: StorageTargetRecord) -> String {
        record.kind == .builtin
            ? "builtin"
            : "webdav \(record.url ?? "") auth \(record.auth.rawValue)\(record.caPEM == nil ? "" : " custom CA")"
                + (record.agentCredentials == .own ? ", agents use their own credentials" : "")
    }
}
