import Foundation
import RecorderCore

/// Collector settings from, in rising precedence: built-in defaults, a JSON file (`--config`), the
/// environment (`RECORDER_COLLECTOR_*`), and command-line flags. The defaults work out of the box.
public struct CollectorConfiguration: Sendable, Equatable {
    public var dataDirectory: String
    public var database: DatabaseLocation?
    public var host = "127.0.0.1"
    public var port = 8443
    /// An admin-provided certificate chain and key (PEM); nil: the collector's own CA in `<data>/tls`.
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// Names the self-made server certificate is valid for (default: loopback and the host name).
    public var tlsHostnames: [String]?
    /// HTTP without TLS, only for a collector behind a TLS-terminating proxy on the same host.
    public var plainHTTP = false
    /// Timeouts and connection caps (`ConnectionLimits`), `connection_limits` in the file.
    public var connectionLimits = ConnectionLimits.standard

    public struct Invalid: Error, CustomStringConvertible {
        public let source: String
        public let problem: String
        public var description: String { "configuration \(source): \(problem)" }
    }

    public static func defaultDataDirectory(environment: [String: String]) -> String {
        if getuid() == 0 { return "/var/lib/recorder-collector" }
        let base = environment["XDG_DATA_HOME"] ?? (environment["HOME"].map { "\($0)/.local/share" } ?? "/tmp")
        return "\(base)/recorder-collector"
    }

    /// Layers file and environment over the defaults; flags are applied by the caller.
    public static func load(file: String?, environment: [String: String]) throws -> CollectorConfiguration {
        var configuration = CollectorConfiguration(dataDirectory: defaultDataDirectory(environment: environment))
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw Invalid(source: file, problem: "cannot read the file")
            }
            let contents: FileContents
            do {
                contents = try StrictJSON.decode(FileContents.self, from: data)
            } catch {
                throw Invalid(source: file, problem: error.message)
            }
            try configuration.apply(
                dataDirectory: contents.dataDirectory, database: contents.database, host: contents.host,
                port: contents.port.map { "\($0)" }, source: file)
            configuration.tlsCertificate = contents.tlsCertificate ?? configuration.tlsCertificate
            configuration.tlsKey = contents.tlsKey ?? configuration.tlsKey
            configuration.tlsHostnames = contents.tlsHostnames ?? configuration.tlsHostnames
            configuration.connectionLimits = contents.connectionLimits ?? configuration.connectionLimits
            configuration.plainHTTP = contents.plainHTTP ?? configuration.plainHTTP
        }
        try configuration.apply(
            dataDirectory: environment["RECORDER_COLLECTOR_DATA_DIR"],
            database: environment["RECORDER_COLLECTOR_DATABASE"],
            host: environment["RECORDER_COLLECTOR_HOST"], port: environment["RECORDER_COLLECTOR_PORT"],
            source: "environment")
        return configuration
    }

    public mutating func apply(dataDirectory: String?, database: String?, host: String?, port: String?, source: String)
        throws
    {
        if let dataDirectory { self.dataDirectory = dataDirectory }
        if let database {
            do {
                self.database = try DatabaseLocation(parsing: database)
            } catch {
                throw Invalid(source: source, problem: "\(error)")
            }
        }
        if let host { self.host = host }
        if let port {
            guard let number = Int(port), (0...65535).contains(number) else {
                throw Invalid(
                    source: source, problem: "port \(port) must be a number between 0 (any free port) and 65535")
            }
            self.port = number
        }
    }

    /// The certificate and key come as a pair or not at all.
    public func validateTLS(source: String) throws {
        if (tlsCertificate == nil) != (tlsKey == nil) {
            throw Invalid(source: source, problem: "tls_certificate and tls_key go together: give both or neither")
        }
    }
}

/// `collector.json` as written: every key optional, read with the one strict decoder.
private struct FileContents: Decodable {
    var dataDirectory: String?
    var database: String?
    var host: String?
    var port: Int?
    var tlsCertificate: String?
    var tlsKey: String?
    var tlsHostnames: [String]?
    var plainHTTP: Bool?
    var connectionLimits: ConnectionLimits?

    enum CodingKeys: String, CodingKey {
        case version, database, host, port
        case dataDirectory = "data_directory"
        case tlsCertificate = "tls_certificate"
        case tlsKey = "tls_key"
        case tlsHostnames = "tls_hostnames"
        case plainHTTP = "plain_http"
        case connectionLimits = "connection_limits"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        _ = try container.contractVersion(.version, required: false)
        dataDirectory = try container.decodeIfPresent(String.self, forKey: .dataDirectory)
        database = try container.decodeIfPresent(String.self, forKey: .database)
        host = try container.decodeIfPresent(String.self, forKey: .host)
        port = try container.decodeIfPresent(Int.self, forKey: .port)
        tlsCertificate = try container.decodeIfPresent(String.self, forKey: .tlsCertificate)
        tlsKey = try container.decodeIfPresent(String.self, forKey: .tlsKey)
        tlsHostnames = try container.decodeIfPresent([String].self, forKey: .tlsHostnames)
        if tlsHostnames?.isEmpty == true {
            throw DecodingError.dataCorruptedError(
                forKey: .tlsHostnames, in: container, debugDescription: "must list at least one name")
        }
        plainHTTP = try container.decodeIfPresent(Bool.self, forKey: .plainHTTP)
        connectionLimits = try container.decodeIfPresent(ConnectionLimits.self, forKey: .connectionLimits)
    }
}
