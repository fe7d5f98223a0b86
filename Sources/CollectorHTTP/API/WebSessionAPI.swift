import CollectorCore
import Foundation
import HTTPTypes
import Hummingbird
import RecorderCore

/// The web app's sign-in (`/api/v1/auth/session`): the session lives in a cookie the page's scripts
/// cannot read (`WebSession`), and the page gets the CSRF token it must send with every change.
///
/// * `POST` with `{"username", "password"}`: signs in (throttled and audited like the API's login);
///   200 with the user and the CSRF token, and the cookie.
/// * `GET`: who is signed in, and the CSRF token again (a reloaded page asks); 401 when nobody is.
/// * `DELETE`: signs out (CSRF-checked, as any change).
struct WebSessionAPI {
    let collector: Collector
    let guards: AuthenticationGuards

    struct SignedIn: ResponseEncodable, Sendable {
        var user: Users.User
        var csrfToken: String
        var expiresInSeconds: Int
        var idleSeconds: Int

        enum CodingKeys: String, CodingKey {
            case user
            case csrfToken = "csrf_token"
            case expiresInSeconds = "expires_in_seconds"
            case idleSeconds = "idle_seconds"
        }
    }

    func register(on router: Router<CollectorContext>) {
        router.post("api/v1/auth/session") { request, context -> Response in
            // A form on another site can post text/plain that happens to be JSON: signing the visitor
            // in as someone else (login CSRF). JSON only, and from this origin only.
            guard request.headers[.contentType]?.lowercased().hasPrefix("application/json") == true else {
                throw CollectorError(.unsupportedMedia, "sign in with a JSON body (Content-Type: application/json)")
            }
            try WebSession.checkSameOrigin(request)
            let credentials = try await request.decodeStrict(Credentials.self, context: context)
            let (token, user) = try await guards.logIn(credentials, source: context.remoteAddress, kind: .cookie)
            var response = try signedIn(user, token: token).response(from: request, context: context)
            response.headers.append(HTTPField(name: .setCookie, value: WebSession.cookie(token)))
            return response
        }
        let session = router.group("api/v1/auth/session").add(
            middleware: SessionAuthentication(collector: collector, roles: Set(Users.Role.allCases)))
        session.get { _, context in
            guard let token = context.webSession else {
                throw CollectorError(.unauthorized, "not signed in to the web app (this is its cookie session)")
            }
            return signedIn(context.user!, token: token)
        }
        session.delete { request, context -> Response in
            if let token = context.webSession { try await collector.users.logOut(sessionToken: token) }
            var response = Response(status: .noContent)
            response.headers.append(HTTPField(name: .setCookie, value: WebSession.cookie(nil)))
            return response
        }
    }

    func signedIn(_ user: Users.User, token: String) -> SignedIn {
        SignedIn(
            user: user, csrfToken: WebSession.csrfToken(for: token, key: collector.csrfKey),
            expiresInSeconds: Int(Users.sessionLifetime), idleSeconds: Int(Users.idleLifetime))
    }
}
