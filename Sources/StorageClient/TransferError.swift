/// Why an HTTP transfer (an upload, a read-back, a call to the collector) failed, and what the
/// caller should do about it.
public struct TransferError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// 401/403: stop uploading, keep the spool, tell the admin (credentials or permissions).
        case unauthorized
        /// 507: the storage is full; back off for longer.
        case insufficientStorage
        /// 5xx, 408, 429, timeouts, connection failures: retry with backoff.
        case transient
        /// TLS verification failed: nothing was sent; a configuration problem, not retried quickly.
        case tls
        /// Anything else (4xx the protocol does not expect): a bug or a misconfigured server.
        case rejected
    }

    public let kind: Kind
    public let description: String
    /// The HTTP status behind the error, when there was one.
    public let status: Int?

    public init(_ kind: Kind, _ description: String, status: Int? = nil) {
        self.kind = kind
        self.description = description
        self.status = status
    }

    package static func status(_ code: Int, _ method: String, _ url: String) -> TransferError {
        let error = classify(code, method, url)
        return TransferError(error.kind, error.description, status: code)
    }

    private static func classify(_ code: Int, _ method: String, _ url: String) -> TransferError {
        switch code {
        case 401, 403:
            return .init(
                .unauthorized,
                "\(method) \(url): HTTP \(code): the storage refused our credentials; fix the user/password/token of this node path's storage"
            )
        case 507:
            return .init(.insufficientStorage, "\(method) \(url): HTTP 507: the storage is full")
        case 408, 429, 500...599:
            return .init(.transient, "\(method) \(url): HTTP \(code)")
        default:
            return .init(.rejected, "\(method) \(url): unexpected HTTP \(code)")
        }
    }
}
