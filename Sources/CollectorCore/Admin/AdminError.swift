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
    }

    public let kind: Kind
    public let message: String
    public var description: String { message }

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}
