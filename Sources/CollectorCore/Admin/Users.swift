import Foundation
import SQLKit

/// Collector users (admins for now; QA and supervisor roles come with the player) and their sessions.
/// Passwords are stored as scrypt hashes; sessions as SHA-256 of a random bearer token.
public struct Users: Sendable {
    public static let sessionLifetime: TimeInterval = 12 * 3600

    let catalog: Catalog
    /// scrypt off the request tasks, with bounded concurrency (`PasswordHasher`).
    let hasher: PasswordHasher

    public init(catalog: Catalog, hasher: PasswordHasher) {
        self.catalog = catalog
        self.hasher = hasher
    }

    public struct User: Codable, Sendable, Equatable {
        public var id: String
        public var username: String
        public var role: String
    }

    public var count: Int {
        get async throws {
            try await catalog.sql.raw("SELECT COUNT(*) AS n FROM users").first()?.decode(column: "n", as: Int.self) ?? 0
        }
    }

    /// Creates an admin. Usernames: 1–64 letters, digits, `.`, `_`, `-`, `@`; passwords: at least 12 characters.
    @discardableResult
    public func createAdmin(username: String, password: String, by actor: Actor) async throws -> User {
        guard (1...64).contains(username.count),
            username.unicodeScalars.allSatisfy({ Users.usernameCharacters.contains($0) })
        else {
            throw CollectorError(.invalid, "username \"\(username)\": use 1–64 letters, digits, . _ - @")
        }
        guard password.count >= 12 else {
            throw CollectorError(.invalid, "the password must have at least 12 characters")
        }
        let user = User(id: UUID().uuidString.lowercased(), username: username, role: "admin")
        let hash = try await hasher.make(password)
        try await catalog.transaction { database in
            let taken = try await database.raw("SELECT id FROM users WHERE username = \(bind: username)").first()
            guard taken == nil else { throw CollectorError(.conflict, "user \"\(username)\" exists already") }
            try await database.raw(
                """
                INSERT INTO users (id, username, password_hash, role, created_at)
                VALUES (\(bind: user.id), \(bind: username), \(bind: hash), 'admin', \(bind: Timestamp.now()))
                """
            ).run()
            try await AuditLog.record(
                "user.create", target: "user:\(username)", detail: "role admin", by: actor, in: database)
        }
        return user
    }

    /// Checks the password and opens a session; failures are audited and answer the same message
    /// whether the user exists or not.
    public func logIn(username: String, password: String, source: String) async throws -> (token: String, user: User) {
        let row = try await catalog.sql.raw(
            "SELECT id, role, password_hash, disabled FROM users WHERE username = \(bind: username)"
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
        let user = User(
            id: try row.decode(column: "id", as: String.self), username: username,
            role: try row.decode(column: "role", as: String.self))
        let token = BearerToken.make(prefix: "rcs")
        let now = Date()
        try await catalog.transaction { database in
            try await database.raw(
                """
                INSERT INTO sessions (token_hash, user_id, created_at, expires_at, source)
                VALUES (\(bind: BearerToken.hash(token)), \(bind: user.id), \(bind: Timestamp.string(now)),
                        \(bind: Timestamp.string(now.addingTimeInterval(Users.sessionLifetime))), \(bind: source))
                """
            ).run()
            try await AuditLog.record(
                "user.login", target: "user:\(username)", by: Actor(name: "user:\(username)", source: source),
                in: database)
        }
        return (token, user)
    }

    /// Checks a password without opening a session (HTTP Basic on the store; the caller audits failures).
    public func checkPassword(username: String, password: String) async throws -> Bool {
        let row = try await catalog.sql.raw(
            "SELECT password_hash, disabled FROM users WHERE username = \(bind: username)"
        ).first()
        let stored = try row?.decode(column: "password_hash", as: String.self) ?? Users.decoyHash
        let valid = try await hasher.verify(password, against: stored)
        return try row != nil && valid && row!.decode(column: "disabled", as: Int.self) == 0
    }

    /// The user behind a session token, if the session exists and has not expired.
    public func user(forSessionToken token: String) async throws -> User? {
        let hash = BearerToken.hash(token)
        guard
            let row = try await catalog.sql.raw(
                """
                SELECT u.id, u.username, u.role, s.token_hash, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
                WHERE s.token_hash = \(bind: hash) AND u.disabled = 0
                """
            ).first(),
            BearerToken.matches(token, hash: try row.decode(column: "token_hash", as: String.self)),
            try row.decode(column: "expires_at", as: String.self) > Timestamp.now()
        else { return nil }
        return User(
            id: try row.decode(column: "id", as: String.self),
            username: try row.decode(column: "username", as: String.self),
            role: try row.decode(column: "role", as: String.self))
    }

    public func logOut(sessionToken token: String) async throws {
        try await catalog.sql.raw("DELETE FROM sessions WHERE token_hash = \(bind: BearerToken.hash(token))").run()
    }

    private static let usernameCharacters = Set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@".unicodeScalars)
    private static let decoyHash = (try? PasswordHash.make("decoy password, never valid")) ?? ""
}
