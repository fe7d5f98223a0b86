import Hummingbird

/// Admin routes: a valid, unexpired session token (`Authorization: Bearer rcs_...`) or 401.
struct SessionAuthentication: RouterMiddleware {
    typealias Context = CollectorContext
    let users: Users

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard let token = SessionAuthentication.bearerToken(request) else {
            throw AdminError(
                .unauthorized, "log in first (POST /api/v1/auth/login) and send Authorization: Bearer <token>")
        }
        guard let user = try await users.user(forSessionToken: token) else {
            throw AdminError(.unauthorized, "the session token is unknown or expired; log in again")
        }
        var context = context
        context.user = user
        return try await next(request, context)
    }

    static func bearerToken(_ request: Request) -> String? {
        guard let value = request.headers[.authorization], value.lowercased().hasPrefix("bearer ") else { return nil }
        let token = value.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}
