import CollectorCore
import Foundation
import Hummingbird
import RecorderCore
import Synchronization
import WebDAV

/// Who is calling the store: an agent (its token), an admin (session token, or HTTP Basic with their
/// password, as WebDAV clients send). Basic checks go through the throttle and the bounded hasher,
/// and their failures are audited.
struct StoreCredentials: Sendable {
    let collector: Collector
    let guards: AuthenticationGuards
    let basicCache = BasicCredentialCache()

    func authenticate(_ request: Request, source: String) async throws -> StoreAPI.Access {
        guard let header = request.headers[.authorization] else {
            throw StoreError(
                .unauthorized, "the store needs an agent token, an admin session, admin Basic credentials, or an integration's token")
        }
        if let token = BearerToken.presented(in: header) {
            if let agent = try await collector.agents.agent(forToken: token) { return .agent(agent) }
            // The store holds every recording sealed: only admins browse it.
            if let user = try await collector.users.user(forSessionToken: token), user.role == .admin {
                return .admin(username: user.username)
            }
            if let integration = try await collector.integrations.integration(forToken: token) {
                return .integration(integration)
            }
        } else if header.lowercased().hasPrefix("basic "), header.utf8.count <= 1024,
            let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
        {
            let username = String(text[..<colon])
            let password = String(text[text.index(after: colon)...])
            // A phone system's recorder speaks Basic: its integration's name and token.
            if password.hasPrefix("rci_"), let integration = try await collector.integrations.integration(forToken: password),
                integration.name == username
            {
                return .integration(integration)
            }
            // Remembered under the stored hash too: a password changed, an admin disabled or made
            // QA, and the next request checks the password again (before, up to 60 s later).
            let stamp = try await collector.users.adminCredentialStamp(username: username)
            if let stamp, basicCache.isValid(header + "\u{0}" + stamp) { return .admin(username: username) }
            let keys = AuthenticationGuards.keys(address: source, user: username)
            try await guards.check(keys, what: "store login")
            if let user = try await collector.users.user(username: username, password: password), user.role == .admin,
                let stamp
            {
                basicCache.remember(header + "\u{0}" + stamp)
                return .admin(username: username)
            }
            await guards.failed(keys, action: "store.basic_failed", target: "user:\(username)", source: source)
        }
        throw StoreError(.unauthorized, "wrong or revoked credentials for the store")
    }
}

/// WebDAV clients send Basic credentials with every request, and a scrypt check costs ~0.1 s: a
/// verified header is remembered (as its SHA-256 with the stored password hash, never in clear) for
/// 60 s; a password change, a disabled admin or a changed role takes effect at the next request.
final class BasicCredentialCache: Sendable {
    private let entries = Mutex<[String: Date]>([:])
    private let lifetime: TimeInterval = 60

    func isValid(_ header: String) -> Bool {
        let key = BearerToken.hash(header)
        return entries.withLock { ($0[key] ?? .distantPast) > Date() }
    }

    func remember(_ header: String) {
        let key = BearerToken.hash(header)
        entries.withLock { entries in
            let now = Date()
            if entries.count > 256 { entries = entries.filter { $0.value > now } }
            entries[key] = now.addingTimeInterval(lifetime)
        }
    }
}
