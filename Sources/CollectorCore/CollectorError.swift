/// A refused request to the collector's domain (from the admin API and CLI, agents, intake): what
/// kind of refusal it is and a message that says what to fix. The HTTP layer maps each kind to one
/// status (`JSONErrorMiddleware` in CollectorHTTP); the CLI prints the message and exits non-zero.
/// `Kind` is a struct over a private enum so kinds can be added without breaking a `switch`.
public struct CollectorError: Error, CustomStringConvertible, Sendable, Equatable {
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Code: String {
            case invalid = "invalid_request"
            case notFound = "not_found"
            case conflict
            case unauthorized
            case forbidden
            case tooLarge = "payload_too_large"
            case unprocessable
            case throttled = "too_many_requests"
            case busy
            case unsupportedMedia = "unsupported_media_type"
        }
        private let code: Code

        public static let invalid = Kind(code: .invalid)
        public static let notFound = Kind(code: .notFound)
        public static let conflict = Kind(code: .conflict)
        public static let unauthorized = Kind(code: .unauthorized)
        public static let forbidden = Kind(code: .forbidden)
        public static let tooLarge = Kind(code: .tooLarge)
        /// Well-formed, but its content does not check out (a manifest whose signature or stored file is wrong).
        public static let unprocessable = Kind(code: .unprocessable)
        /// Too many failed attempts from this client or for this user: 429 with Retry-After.
        public static let throttled = Kind(code: .throttled)
        /// The collector cannot take the work now (its password checks are all busy): 503.
        public static let busy = Kind(code: .busy)
        /// A body in a format the collector does not take (a voice file in MP3): 415.
        public static let unsupportedMedia = Kind(code: .unsupportedMedia)

        /// Every kind: the HTTP layer's test checks each has a status.
        package static let all: [Kind] = [
            .invalid, .notFound, .conflict, .unauthorized, .forbidden, .tooLarge, .unprocessable, .throttled, .busy,
            .unsupportedMedia,
        ]

        /// The `code` of the API's JSON error body.
        public var description: String { code.rawValue }
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
