import CollectorCore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import RecorderCore

/// Signed-in routes: a session of a user whose role is in `roles` (403 otherwise), from either
///
/// * `Authorization: Bearer rcs_…` (API clients and the CLI's scripts, which send it themselves), or
/// * the web app's cookie (`WebSession.cookieName`: HttpOnly, Secure, SameSite=Strict). A request
///   on the cookie that changes anything (not GET or HEAD) must also carry the session's CSRF token
///   in `X-CSRF-Token`, and must not come from another origin.
struct SessionAuthentication: RouterMiddleware {
    typealias Context = CollectorContext
    let collector: Collector
    var roles: Set<Users.Role> = [.admin]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var context = context
        if let token = SessionAuthentication.bearerToken(request) {
            guard let user = try await collector.users.user(forSessionToken: token) else {
                throw CollectorError(.unauthorized, "the session token is unknown or expired; log in again")
            }
            context.user = user
        } else if let token = WebSession.token(request) {
            guard let user = try await collector.users.user(forSessionToken: token, kind: .cookie) else {
                throw CollectorError(.unauthorized, "your session has ended; sign in again")
            }
            if ![.get, .head].contains(request.method) {
                try WebSession.checkSameOrigin(request)
                guard let presented = request.headers[WebSession.csrfHeader],
                    WebSession.csrfMatches(presented, token: token, key: collector.csrfKey)
                else {
                    throw CollectorError(
                        .forbidden, "this change needs the page's X-CSRF-Token (reload the page if it was open for long)")
                }
            }
            context.user = user
            context.webSession = token
        } else {
            throw CollectorError(
                .unauthorized, "log in first (POST /api/v1/auth/login) and send Authorization: Bearer <token>")
        }
        guard let user = context.user, roles.contains(user.role) else {
            throw CollectorError(.forbidden, "this needs the \(roles.map(\.rawValue).sorted().joined(separator: " or ")) role")
        }
        return try await next(request, context)
    }

    static func bearerToken(_ request: Request) -> String? {
        BearerToken.presented(in: request.headers[.authorization])
    }
}

/// The web app's session: a cookie the page's scripts cannot read, and a CSRF token they can, derived
/// from the session (HMAC under a key from the secrets key), so nothing more is stored.
enum WebSession {
    /// `__Host-`: the browser keeps it only if Secure, for this host and path `/`, so no sibling
    /// subdomain can plant one over it.
    static let cookieName = "__Host-rc_session"
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    static func token(_ request: Request) -> String? {
        guard let value = request.cookies[cookieName]?.value, value.hasPrefix("rcs_"), value.utf8.count <= 200 else {
            return nil
        }
        return value
    }

    static func csrfToken(for token: String, key: SymmetricKey) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(BearerToken.hash(token).utf8), using: key).hexString
    }

    /// Constant time: the comparison says nothing about how much of a guess was right.
    static func csrfMatches(_ presented: String, token: String, key: SymmetricKey) -> Bool {
        let expected = Array(csrfToken(for: token, key: key).utf8)
        let given = Array(presented.utf8)
        guard given.count == expected.count else { return false }
        return zip(given, expected).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// A browser names the page a request came from; one from another site is refused even before
    /// its CSRF token is looked at. (No Origin: not a browser's cross-site request.)
    static func checkSameOrigin(_ request: Request) throws {
        guard let origin = request.headers[.origin] else { return }
        let refused = CollectorError(.forbidden, "a request from another origin (\(OutsideText.bounded(origin, limit: 80)))")
        guard let url = URL(string: origin), let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased() else {
            throw refused
        }
        // Host and port exactly, a missing port being the scheme's own.
        let defaultPort = scheme == "https" ? 443 : 80
        let authority = (request.head.authority ?? "").lowercased()
        let parts = authority.split(separator: ":", maxSplits: 1)
        let requestHost = parts.first.map(String.init) ?? ""
        let requestPort = parts.count == 2 ? Int(parts[1]) : defaultPort
        guard host == requestHost, (url.port ?? defaultPort) == requestPort else { throw refused }
    }

    /// The cookie for a new session (or, with no token, the one that ends it).
    static func cookie(_ token: String?) -> String {
        guard let token else { return "\(cookieName)=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict" }
        return "\(cookieName)=\(token); Path=/; Max-Age=\(Int(Users.sessionLifetime)); HttpOnly; Secure; SameSite=Strict"
    }
}
