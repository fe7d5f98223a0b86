import Foundation

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

    public static let fileKeys: Set<String> = [
        "version", "data_directory", "database", "host", "port", "tls_certificate", "tls_key", "tls_hostnames",
        "plain_http", "connection_limits",
    ]

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
            guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw Invalid(source: file, problem: "not a JSON object")
            }
            if let unknown = object.keys.sorted().first(where: { !fileKeys.contains($0) }) {
                throw Invalid(
                    source: file,
                    problem: "unknown key \"\(unknown)\"; known keys: \(fileKeys.sorted().joined(separator: ", "))")
            }
            if let version = object["version"], (version as? Int) != 1 {
                throw Invalid(source: file, problem: "version \(version) is not supported (use 1)")
            }
            try configuration.apply(
                dataDirectory: string(object, "data_directory", file), database: string(object, "database", file),
                host: string(object, "host", file), port: object["port"].map { "\($0)" }, source: file)
            configuration.tlsCertificate = try string(object, "tls_certificate", file) ?? configuration.tlsCertificate
            configuration.tlsKey = try string(object, "tls_key", file) ?? configuration.tlsKey
            if let names = object["tls_hostnames"] {
                guard let list = names as? [String], !list.isEmpty else {
                    throw Invalid(source: file, problem: "tls_hostnames must be a non-empty list of strings")
                }
                configuration.tlsHostnames = list
            }
            if let limits = object["connection_limits"] {
                configuration.connectionLimits = try connectionLimits(limits, file)
            }
            if let plain = object["plain_http"] {
                guard let flag = plain as? Bool else {
                    throw Invalid(source: file, problem: "plain_http must be true or false")
                }
                configuration.plainHTTP = flag
            }
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

    private static func connectionLimits(_ value: Any, _ file: String) throws -> ConnectionLimits {
        let known = Set(ConnectionLimits.CodingKeys.allCases.map(\.rawValue))
        guard let object = value as? [String: Any] else {
            throw Invalid(source: file, problem: "connection_limits must be an object")
        }
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw Invalid(
                source: file,
                problem:
                    "unknown key \"connection_limits.\(unknown)\"; known keys: \(known.sorted().joined(separator: ", "))"
            )
        }
        do {
            return try JSONDecoder().decode(ConnectionLimits.self, from: JSONSerialization.data(withJSONObject: object))
        } catch let DecodingError.dataCorrupted(context) {
            throw Invalid(source: file, problem: "connection_limits: \(context.debugDescription)")
        } catch {
            throw Invalid(source: file, problem: "connection_limits: every value must be a positive whole number")
        }
    }

    private static func string(_ object: [String: Any], _ key: String, _ file: String) throws -> String? {
        guard let value = object[key] else { return nil }
        guard let string = value as? String else { throw Invalid(source: file, problem: "\(key) must be a string") }
        return string
    }
}
