import Foundation
import Hummingbird
import Logging
import RecorderCore

/// Every error leaves the API as JSON: `{"error": {"code": "...", "message": "..."}}` with a 4xx that
/// says what to fix, or a 500 whose details stay in the log (never in the response).
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = CollectorContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as AdminError {
            var response = JSONErrorMiddleware.response(
                JSONErrorMiddleware.status(error.kind), error.kind.rawValue, error.message)
            // WebDAV clients (litmus, davfs, file managers) answer a Basic challenge with credentials.
            if error.kind == .unauthorized, request.uri.path == "/dav" || request.uri.path.hasPrefix("/dav/") {
                response.headers[.wwwAuthenticate] = "Basic realm=\"recorder-collector store\""
            }
            if let seconds = error.retryAfterSeconds { response.headers[.retryAfter] = "\(seconds)" }
            return response
        } catch is PasswordHasher.Busy {
            var response = JSONErrorMiddleware.response(
                .serviceUnavailable, "busy", "too many password checks are waiting; try again in a few seconds")
            response.headers[.retryAfter] = "5"
            return response
        } catch let error as HTTPError {
            let message = error.body ?? error.status.reasonPhrase
            return JSONErrorMiddleware.response(error.status, JSONErrorMiddleware.code(error.status), message)
        } catch let error as any HTTPResponseError {
            return JSONErrorMiddleware.response(
                error.status, JSONErrorMiddleware.code(error.status), "\(error.status.reasonPhrase)")
        } catch {
            context.logger.error(
                "request failed",
                metadata: [
                    "error": "\(OutsideText.bounded("\(error)", limit: 1000))",
                    "path": "\(OutsideText.bounded(request.uri.path))",
                ])
            return JSONErrorMiddleware.response(
                .internalServerError, "internal_error", "internal error; the collector's log has the details")
        }
    }

    static func status(_ kind: AdminError.Kind) -> HTTPResponse.Status {
        switch kind {
        case .invalid: .badRequest
        case .notFound: .notFound
        case .conflict: .conflict
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .tooLarge: .contentTooLarge
        case .unprocessable: .unprocessableContent
        case .throttled: .tooManyRequests
        case .busy: .serviceUnavailable
        }
    }

    static func code(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "invalid_request"
        case 401: "unauthorized"
        case 403: "forbidden"
        case 404: "not_found"
        case 405: "method_not_allowed"
        case 409: "conflict"
        case 413: "payload_too_large"
        default: status.code >= 500 ? "internal_error" : "error_\(status.code)"
        }
    }

    static func response(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        let body = try! JSONSerialization.data(
            withJSONObject: ["error": ["code": code, "message": message]],
            options: [.sortedKeys, .withoutEscapingSlashes])
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"recorder-collector\"" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
