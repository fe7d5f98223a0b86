/// Where a node path's segments go: a WebDAV base URL, its credentials and TLS settings.
public struct StorageTarget: Sendable, Equatable {
    public enum Credentials: Sendable, Equatable {
        case none
        case basic(user: String, password: String)
        case digest(user: String, password: String)
        case bearer(token: String)
    }

    /// e.g. https://dav.paris.example/recordings (no trailing slash needed).
    public var baseURL: String
    public var credentials: Credentials = .none
    /// PEM bundle of the CAs to trust instead of the system's.
    public var caFile: String?
    /// mTLS client certificate and key (PEM).
    public var clientCertificate: String?
    public var clientKey: String?
    /// Upload bandwidth cap in bytes per second (nil: none).
    public var maxBytesPerSecond: Int?

    public init(baseURL: String, credentials: Credentials = .none, caFile: String? = nil) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.credentials = credentials
        self.caFile = caFile
    }
}
