import Foundation
import RecorderCore
import SQLKit

/// Collector users, their roles and their sessions. Passwords are stored as scrypt hashes; sessions as
/// SHA-256 of a random token. What each role may see and do is `Access`; this is who they are.
public struct Users: Sendable {
    /// A session ends this long after login…
    public static let sessionLifetime: TimeInterval = 12 * 3600
    /// …or this long after it was last used.
    public static let idleLifetime: TimeInterval = 30 * 60
    /// How stale `last_seen_at` may get before a request writes it again (one write a minute, not one a request).
    static let touchInterval: TimeInterval = 60

    let catalog: Catalog
    /// scrypt off the request tasks, with bounded concurrency (`PasswordHasher`).
    let hasher: PasswordHasher

    public init(catalog: Catalog, hasher: PasswordHasher) {
        self.catalog = catalog
        self.hasher = hasher
    }

    public enum Role: String, Codable, Sendable, CaseIterable {
        /// Everything: configuration, agents, keys, users, and every call.
        case admin
        /// The calls of agents under their node paths: search, play, notes, export.
        case supervisor
        /// The same calls, and evaluations.
        case qa
        /// Nothing, or the calls taken at their own workstation once an admin links it.
        case agent
    }

    public struct User: Codable, Sendable, Equatable {
        public var id: String
        public var username: String
        public var role: Role
        /// Supervisors and QA: the node paths whose agents' calls they see (each with everything below it).
        public var scopes: [String]
        /// Agents: the workstation whose calls are theirs to see (nil: none).
        public var workstation: String?
        public var disabled: Bool

        enum CodingKeys: String, CodingKey {
            case id, username, role, scopes, workstation, disabled
        }
    }

    /// What an admin gives when creating a user or changing one (nil: unchanged).
    public struct Profile: Decodable, Sendable {
        public var role: Role?
        public var scopes: [String]?
        public var workstation: String?
        public var disabled: Bool?

        public init(role: Role? = nil, scopes: [String]? = nil, workstation: String? = nil, disabled: Bool? = nil) {
            self.role = role
            self.scopes = scopes
            self.workstation = workstation
            self.disabled = disabled
        }
    }

    public var count: Int {
        get async throws {
            try await catalog.sql.raw("SELECT COUNT(*) AS n FROM users").first()?.decode(column: "n", as: Int.self) ?? 0
        }
    }

    @discardableResult
    public func createAdmin(username: String, password: String, by actor: Actor) async throws -> User {
        try await create(username: username, password: password, profile: Profile(role: .admin), by: actor)
    }

    /// Creates a user. Usernames: 1–64 letters, digits, `.`, `_`, `-`, `@`; passwords: at least 12
    /// characters; supervisors and QA need at least one node path.
    @discardableResult
    public func create(username: String, password: String, profile: Profile, by actor: Actor) async throws -> User {
        guard (1...64).contains(username.count),
            username.unicodeScalars.allSatisfy({ Users.usernameCharacters.contains($0) })
        else {
            throw CollectorError(.invalid, "username \"\(OutsideText.bounded(username, limit: 80))\": use 1–64 letters, digits, . _ - @")
        }
        try Self.checkPassword(password)
        let role = profile.role ?? .qa
        let user = User(
            id: UUID().uuidString.lowercased(), username: username, role: role,
            scopes: try Self.checkedScopes(profile.scopes ?? [], for: role),
            workstation: try Self.checkedWorkstation(profile.workstation, for: role), disabled: profile.disabled ?? false)
        let hash = try await hasher.make(password)
        try await catalog.transaction { database in
            let taken = try await database.raw("SELECT id FROM users WHERE username = \(bind: username)").first()
            guard taken == nil else { throw CollectorError(.conflict, "user \"\(username)\" exists already") }
            try await database.raw(
                """
                INSERT INTO users (id, username, password_hash, role, created_at, disabled, workstation)
                VALUES (\(bind: user.id), \(bind: username), \(bind: hash), \(bind: role.rawValue), \(bind: Timestamp.now()),
                        \(bind: user.disabled ? 1 : 0), \(bind: user.workstation))
                """
            ).run()
            try await Self.writeScopes(user.scopes, of: user.id, in: database)
            try await AuditLog.record(
                "user.create", target: "user:\(username)", detail: Self.describe(user), by: actor, in: database)
        }
        return user
    }

    /// Changes a user's role, scopes, workstation or whether they are disabled. Disabling ends their
    /// sessions; the last enabled admin can be neither disabled nor given another role.
    @discardableResult
    public func update(username: String, _ profile: Profile, by actor: Actor) async throws -> User {
        let postgres = catalog.isPostgres
        return try await catalog.transaction { database in
            // Two admins demoting each other at once must not both succeed and leave none.
            if postgres { try await database.raw("SELECT pg_advisory_xact_lock(\(bind: Self.adminsLock))").run() }
            guard var user = try await Self.user(named: username, in: database) else {
                throw CollectorError(.notFound, "no user \"\(OutsideText.bounded(username, limit: 80))\"")
            }
            let wasActiveAdmin = user.role == .admin && !user.disabled
            if let role = profile.role { user.role = role }
            if let disabled = profile.disabled { user.disabled = disabled }
            user.scopes = try Self.checkedScopes(profile.scopes ?? (user.role == .admin || user.role == .agent ? [] : user.scopes), for: user.role)
            user.workstation = try Self.checkedWorkstation(
                profile.workstation.map { $0.isEmpty ? nil : $0 } ?? (user.role == .agent ? user.workstation : nil), for: user.role)
            if wasActiveAdmin, user.role != .admin || user.disabled {
                let others = try await database.raw(
                    "SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled = 0 AND id <> \(bind: user.id)"
                ).first()?.decode(column: "n", as: Int.self) ?? 0
                guard others > 0 else {
                    throw CollectorError(.conflict, "\(username) is the last admin; make another admin first")
                }
            }
            try await database.raw(
                """
                UPDATE users SET role = \(bind: user.role.rawValue), disabled = \(bind: user.disabled ? 1 : 0),
                    workstation = \(bind: user.workstation) WHERE id = \(bind: user.id)
                """
            ).run()
            try await database.raw("DELETE FROM user_scopes WHERE user_id = \(bind: user.id)").run()
            try await Self.writeScopes(user.scopes, of: user.id, in: database)
            if user.disabled { try await database.raw("DELETE FROM sessions WHERE user_id = \(bind: user.id)").run() }
            try await AuditLog.record(
                "user.update", target: "user:\(username)", detail: Self.describe(user), by: actor, in: database)
            return user
        }
    }

    /// Sets a new password and ends the user's sessions.
    public func setPassword(username: String, password: String, by actor: Actor) async throws {
        try Self.checkPassword(password)
        let hash = try await hasher.make(password)
        try await catalog.transaction { database in
            guard let user = try await Self.user(named: username, in: database) else {
                throw CollectorError(.notFound, "no user \"\(OutsideText.bounded(username, limit: 80))\"")
            }
            try await database.raw("UPDATE users SET password_hash = \(bind: hash) WHERE id = \(bind: user.id)").run()
            try await database.raw("DELETE FROM sessions WHERE user_id = \(bind: user.id)").run()
            try await AuditLog.record("user.password", target: "user:\(username)", by: actor, in: database)
        }
    }

    public func list() async throws -> [User] {
        let rows = try await catalog.sql.raw("SELECT id, username, role, workstation, disabled FROM users ORDER BY username").all()
        var users: [User] = []
        for row in rows { users.append(try await Self.user(row, in: catalog.sql)) }
        return users
    }

    public func get(_ username: String) async throws -> User? { try await Self.user(named: username, in: catalog.sql) }

    /// Checks the password and opens a session; failures are audited and answer the same message
    /// whether the user exists or not.
    public func logIn(username: String, password: String, source: String, kind: SessionKind = .bearer) async throws
        -> (token: String, user: User)
    {
        let row = try await catalog.sql.raw(
            "SELECT id, username, role, workstation, disabled, password_hash FROM users WHERE username = \(bind: username)"
        ).first()
        // Unknown users still pay for one hash, so timing does not tell which usernames exist.
        let stored = try row?.decode(column: "password_hash", as: String.self) ?? Users.decoyHash
        let valid = try await hasher.verify(password, against: stored)
        guard let row, valid, try row.decode(column: "disabled", as: Int.self) == 0 else {
            try await AuditLog.record(
                "user.login_failed", target: "user:\(username)", by: Actor(name: "anonymous", source: source),
                in: catalog)
            throw CollectorError(.unauthorized, "wrong username or password")
        }
        let user = try await Self.user(row, in: catalog.sql)
        let token = BearerToken.make(prefix: "rcs")
        let now = Date()
        try await catalog.transaction { database in
            try await database.raw(
                """
                INSERT INTO sessions (token_hash, user_id, created_at, expires_at, source, last_seen_at, kind)
                VALUES (\(bind: BearerToken.hash(token)), \(bind: user.id), \(bind: Timestamp.string(now)),
                        \(bind: Timestamp.string(now.addingTimeInterval(Users.sessionLifetime))), \(bind: source),
                        \(bind: Timestamp.string(now)), \(bind: kind.rawValue))
                """
            ).run()
            try await AuditLog.record(
                "user.login", target: "user:\(username)", detail: kind == .cookie ? "web" : "api",
                by: Actor(name: "user:\(username)", source: source), in: database)
        }
        return (token, user)
    }

    public enum SessionKind: String, Sendable {
        case bearer, cookie
    }

    /// Checks a password without opening a session (HTTP Basic on the store; the caller audits
    /// failures): the user, if the password is theirs and they are enabled.
    public func user(username: String, password: String) async throws -> User? {
        let row = try await catalog.sql.raw(
            "SELECT id, username, role, workstation, disabled, password_hash FROM users WHERE username = \(bind: username)"
        ).first()
        let stored = try row?.decode(column: "password_hash", as: String.self) ?? Users.decoyHash
        let valid = try await hasher.verify(password, against: stored)
        guard let row, valid, try row.decode(column: "disabled", as: Int.self) == 0 else { return nil }
        return try await Self.user(row, in: catalog.sql)
    }

    /// What a remembered password check depends on: the stored hash of an enabled admin's password,
    /// or nil (not an admin, disabled, unknown). A changed password or role changes it, so a check
    /// remembered under it no longer counts.
    public func adminCredentialStamp(username: String) async throws -> String? {
        guard
            let row = try await catalog.sql.raw(
                "SELECT role, disabled, password_hash FROM users WHERE username = \(bind: username)"
            ).first(),
            try row.decode(column: "role", as: String.self) == Role.admin.rawValue,
            try row.decode(column: "disabled", as: Int.self) == 0
        else { return nil }
        return try row.decode(column: "password_hash", as: String.self)
    }

    /// The user behind a session token, if the session exists, is of `kind` and has neither expired
    /// nor been idle too long. Using it keeps it alive.
    public func user(forSessionToken token: String, kind: SessionKind = .bearer, now: Date = Date()) async throws -> User? {
        let hash = BearerToken.hash(token)
        guard
            let row = try await catalog.sql.raw(
                """
                SELECT u.id, u.username, u.role, u.workstation, u.disabled, s.token_hash, s.expires_at, s.last_seen_at,
                    s.created_at, s.kind
                FROM sessions s JOIN users u ON u.id = s.user_id
                WHERE s.token_hash = \(bind: hash) AND u.disabled = 0
                """
            ).first(),
            BearerToken.matches(token, hash: try row.decode(column: "token_hash", as: String.self)),
            try row.decode(column: "kind", as: String.self) == kind.rawValue,
            try row.decode(column: "expires_at", as: String.self) > Timestamp.string(now)
        else { return nil }
        let lastSeen = try row.decode(column: "last_seen_at", as: String?.self) ?? row.decode(column: "created_at", as: String.self)
        guard let seen = Timestamp.date(lastSeen), now.timeIntervalSince(seen) < Self.idleLifetime else {
            try await catalog.sql.raw("DELETE FROM sessions WHERE token_hash = \(bind: hash)").run()
            return nil
        }
        if now.timeIntervalSince(seen) >= Self.touchInterval {
            try await catalog.sql.raw(
                "UPDATE sessions SET last_seen_at = \(bind: Timestamp.string(now)) WHERE token_hash = \(bind: hash)"
            ).run()
        }
        return try await Self.user(row, in: catalog.sql)
    }

    public func logOut(sessionToken token: String) async throws {
        try await catalog.sql.raw("DELETE FROM sessions WHERE token_hash = \(bind: BearerToken.hash(token))").run()
    }

    // MARK: - Rows and checks

    private static func user(named username: String, in database: any SQLDatabase) async throws -> User? {
        guard
            let row = try await database.raw(
                "SELECT id, username, role, workstation, disabled FROM users WHERE username = \(bind: username)"
            ).first()
        else { return nil }
        return try await user(row, in: database)
    }

    private static func user(_ row: any SQLRow, in database: any SQLDatabase) async throws -> User {
        let id = try row.decode(column: "id", as: String.self)
        let stored = try row.decode(column: "role", as: String.self)
        // A role this build does not know (a newer collector's) gets nothing rather than a guess.
        let role = Role(rawValue: stored) ?? .agent
        let scopes = try await database.raw(
            "SELECT node_path FROM user_scopes WHERE user_id = \(bind: id) ORDER BY node_path"
        ).all().map { try $0.decode(column: "node_path", as: String.self) }
        return User(
            id: id, username: try row.decode(column: "username", as: String.self), role: role, scopes: scopes,
            workstation: role == .agent ? try row.decode(column: "workstation", as: String?.self) : nil,
            disabled: try row.decode(column: "disabled", as: Int.self) != 0)
    }

    private static func writeScopes(_ scopes: [String], of id: String, in database: any SQLDatabase) async throws {
        for scope in scopes {
            try await database.raw("INSERT INTO user_scopes (user_id, node_path) VALUES (\(bind: id), \(bind: scope))").run()
        }
    }

    static let adminsLock: Int64 = 0x7263_6164_6d69_6e73

    static func checkPassword(_ password: String) throws {
        guard password.count >= 12 else { throw CollectorError(.invalid, "the password must have at least 12 characters") }
        guard password.utf8.count <= 1024 else { throw CollectorError(.invalid, "the password is longer than 1024 bytes") }
    }

    static func checkedScopes(_ scopes: [String], for role: Role) throws -> [String] {
        switch role {
        case .admin, .agent:
            guard scopes.isEmpty else {
                throw CollectorError(
                    .invalid, "\(role.rawValue)s have no node paths (admins see everything; agents their own workstation's calls)")
            }
            return []
        case .supervisor, .qa:
            guard !scopes.isEmpty else {
                throw CollectorError(.invalid, "a \(role.rawValue) user needs at least one node path, e.g. /emea/paris")
            }
            guard scopes.count <= 32 else { throw CollectorError(.invalid, "at most 32 node paths per user") }
            for scope in scopes { try NodePaths.validate(scope) }
            return Array(Set(scopes)).sorted()
        }
    }

    static func checkedWorkstation(_ workstation: String?, for role: Role) throws -> String? {
        guard let workstation else { return nil }
        guard role == .agent else { throw CollectorError(.invalid, "only agent users are linked to a workstation") }
        guard (1...128).contains(workstation.utf8.count), !workstation.contains(where: { $0.isNewline || $0 == "/" }) else {
            throw CollectorError(.invalid, "a workstation is its agent id, as enrolled")
        }
        return workstation
    }

    static func describe(_ user: User) -> String {
        var parts = ["role \(user.role.rawValue)"]
        if !user.scopes.isEmpty { parts.append("scopes \(user.scopes.joined(separator: ","))") }
        if let workstation = user.workstation { parts.append("workstation \(workstation)") }
        if user.disabled { parts.append("disabled") }
        return parts.joined(separator: ", ")
    }

    private static let usernameCharacters = Set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@".unicodeScalars)
    private static let decoyHash = (try? PasswordHash.make("decoy password, never valid")) ?? ""
}
