/// A refused or failed store operation, with what the client should do about it. The HTTP layer maps
/// each kind to one status (`JSONErrorMiddleware` in CollectorHTTP). `Kind` is a struct over a private enum so
/// kinds can be added without breaking a `switch`.
public struct StoreError: Error, CustomStringConvertible, Sendable, Equatable {
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Code: String {
            case invalid = "invalid_request"
            case unauthorized
            case forbidden
            case notFound = "not_found"
            case conflict
            case exists
            case preconditionFailed = "precondition_failed"
            case tooLarge = "payload_too_large"
            case unsupportedBody = "unsupported_media_type"
            case otherServer = "other_server"
            case quotaExceeded = "quota_exceeded"
            case full = "insufficient_storage"
        }
        private let code: Code

        /// 400: a malformed request (a header, a body, a Destination).
        public static let invalid = Kind(code: .invalid)
        /// 401, with a Basic challenge: WebDAV clients answer it with credentials.
        public static let unauthorized = Kind(code: .unauthorized)
        /// 403: not allowed here, for this client, or at all (evidence, hidden names, symlinks).
        public static let forbidden = Kind(code: .forbidden)
        public static let notFound = Kind(code: .notFound)
        /// 409: the parent is missing, a collection is in the way, or a move/copy would eat itself.
        public static let conflict = Kind(code: .conflict)
        /// 405: MKCOL of something that exists.
        public static let exists = Kind(code: .exists)
        /// 412: the destination exists and Overwrite is F.
        public static let preconditionFailed = Kind(code: .preconditionFailed)
        public static let tooLarge = Kind(code: .tooLarge)
        /// 415: a body where none is understood (MKCOL).
        public static let unsupportedBody = Kind(code: .unsupportedBody)
        /// 502: a Destination on another server (RFC 4918 §9.8.5).
        public static let otherServer = Kind(code: .otherServer)
        /// 507: a node path's quota has no room.
        public static let quotaExceeded = Kind(code: .quotaExceeded)
        /// 507: the disk (less its reserve) has no room.
        public static let full = Kind(code: .full)

        /// Every kind: the HTTP layer's test checks each has a status.
        package static let all: [Kind] = [
            .invalid, .unauthorized, .forbidden, .notFound, .conflict, .exists, .preconditionFailed, .tooLarge,
            .unsupportedBody, .otherServer, .quotaExceeded, .full,
        ]

        /// The `code` of the JSON error body.
        public var description: String { code.rawValue }
    }

    public let kind: Kind
    public let message: String
    public var description: String { message }

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The disk refused a write (ENOSPC, EDQUOT, EIO).
    package static func diskFull(errno code: Int32) -> StoreError {
        StoreError(
            .full, "the collector's store is full (\(String(cString: strerror(code)))); an admin must free space or add storage")
    }
}

#if canImport(Glibc)
    import Glibc
#endif
