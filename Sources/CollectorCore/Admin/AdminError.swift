/// A refused admin request, with the HTTP status the API answers and a message that says what to fix.
/// The CLI prints the same message and exits non-zero.
public struct AdminError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        case invalid = "invalid_request"
        case notFound = "not_found"
        case conflict = "conflict"
        case unauthorized = "unauthorized"
        case forbidden = "forbidden"
        case tooLarge = "payload_too_large"
        /// Well-formed, but its content does not check out (a manifest whose signature or stored file is wrong).
        case unprocessable = "unprocessable"
        /// Too many failed attempts from this client or for this user: 429 with Retry-After.
        case throttled = "too_many_requests"
        /// The collector cannot take the work now (its password checks are all busy): 503.
        case busy = "busy"
    }

    public let kind: Kind
    public let message: String
    /// For `throttled`: when the client may try again.
    public let retryAfterSeconds: Int?
    public var description: String { message }

    public init(_ kind: Kind, _ message: String, retryAfterSeconds: Int? = nil) {
        self.kind = kind
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }
}
