import CollectorCore
import Foundation
import Hummingbird
import Logging
import RecorderCore
import WebDAV

/// Every error leaves the API as JSON: `{"error": {"code": "...", "message": "..."}}` with a 4xx that
/// says what to fix, or a 500 whose details stay in the log (never in the response). The one place
/// where the domain's and the store's error kinds become HTTP statuses.
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = CollectorContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as CollectorError {
            var response = JSONErrorMiddleware.response(
                JSONErrorMiddleware.statuses[error.kind] ?? .badRequest, error.kind.description, error.message)
            if let seconds = error.retryAfterSeconds { response.headers[.retryAfter] = "\(seconds)" }
            return response
        } catch let error as StoreError {
            var response = JSONErrorMiddleware.response(
                JSONErrorMiddleware.storeStatuses[error.kind] ?? .badRequest, error.kind.description, error.message)
            // WebDAV clients (litmus, davfs, file managers) answer a Basic challenge with credentials.
            if error.kind == .unauthorized { response.headers[.wwwAuthenticate] = "Basic realm=\"recorder-collector store\"" }
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

    static let statuses: [CollectorError.Kind: HTTPResponse.Status] = [
        .invalid: .badRequest, .notFound: .notFound, .conflict: .conflict, .unauthorized: .unauthorized,
        .forbidden: .forbidden, .tooLarge: .contentTooLarge, .unprocessable: .unprocessableContent,
        .throttled: .tooManyRequests, .busy: .serviceUnavailable, .unsupportedMedia: .unsupportedMediaType,
    ]

    static let storeStatuses: [StoreError.Kind: HTTPResponse.Status] = [
        .invalid: .badRequest, .unauthorized: .unauthorized, .forbidden: .forbidden, .notFound: .notFound,
        .conflict: .conflict, .exists: .methodNotAllowed, .preconditionFailed: .preconditionFailed,
        .tooLarge: .contentTooLarge, .unsupportedBody: .unsupportedMediaType, .otherServer: .badGateway,
        .quotaExceeded: .init(code: 507, reasonPhrase: "Insufficient Storage"),
        .full: .init(code: 507, reasonPhrase: "Insufficient Storage"),
    ]

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
