import CollectorCore
import Hummingbird
import RecorderCore

/// Admin routes: a valid, unexpired session token (`Authorization: Bearer rcs_...`) or 401.
struct SessionAuthentication: RouterMiddleware {
    typealias Context = CollectorContext
    let users: Users

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard let token = SessionAuthentication.bearerToken(request) else {
            throw CollectorError(
                .unauthorized, "log in first (POST /api/v1/auth/login) and send Authorization: Bearer <token>")
        }
        guard let user = try await users.user(forSessionToken: token) else {
            throw CollectorError(.unauthorized, "the session token is unknown or expired; log in again")
        }
        var context = context
        context.user = user
        return try await next(request, context)
    }

    static func bearerToken(_ request: Request) -> String? {
        BearerToken.presented(in: request.headers[.authorization])
    }
}
