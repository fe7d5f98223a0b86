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
    /// Segments uploaded at once (1...8). More than one hides per-request latency on distant storage;
    /// the cap keeps a site's agents from flooding it after an outage.
    public var parallelUploads = 2
    /// A request that moves no byte for this long is abandoned and retried later, so a stalled server
    /// cannot hold the spool (or the agent's shutdown) forever.
    public var stallTimeoutSeconds = 60

    public init(baseURL: String, credentials: Credentials = .none, caFile: String? = nil) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.credentials = credentials
        self.caFile = caFile
    }
}
