import Foundation

/// Limits on the connections a collector holds, so that strangers cannot lock everyone out by opening
/// sockets and saying nothing (before these, ~1 100 idle connections exhausted a default unit's file
/// limit and `/healthz` timed out). Every value is configurable (`connection_limits` in the file).
public struct ConnectionLimits: Sendable, Equatable, Codable {
    /// From accepting a connection (or finishing a response) to a complete request head: covers
    /// the TLS handshake and slowly sent headers.
    public var headerTimeoutSeconds = 10
    /// An open keep-alive connection with no request in flight.
    public var idleTimeoutSeconds = 60
    /// A request body that stops arriving for this long.
    public var bodyStallTimeoutSeconds = 30
    /// Connections held at once, in total and from one client address. Agents behind one NAT share
    /// an address and keep one or two connections each: the per-address default allows ~500 of them.
    public var maxConnections = 4096
    public var maxConnectionsPerAddress = 1024

    public static let standard = ConnectionLimits()
    public init() {}

    enum CodingKeys: String, CodingKey {
        case headerTimeoutSeconds = "header_timeout_seconds"
        case idleTimeoutSeconds = "idle_timeout_seconds"
        case bodyStallTimeoutSeconds = "body_stall_timeout_seconds"
        case maxConnections = "max_connections"
        case maxConnectionsPerAddress = "max_connections_per_address"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ConnectionLimits()
        func value(_ key: CodingKeys, _ fallback: Int) throws -> Int {
            let number = try container.decodeIfPresent(Int.self, forKey: key) ?? fallback
            guard number > 0 else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: container, debugDescription: "must be a positive whole number, found \(number)")
            }
            return number
        }
        headerTimeoutSeconds = try value(.headerTimeoutSeconds, defaults.headerTimeoutSeconds)
        idleTimeoutSeconds = try value(.idleTimeoutSeconds, defaults.idleTimeoutSeconds)
        bodyStallTimeoutSeconds = try value(.bodyStallTimeoutSeconds, defaults.bodyStallTimeoutSeconds)
        maxConnections = try value(.maxConnections, defaults.maxConnections)
        maxConnectionsPerAddress = try value(.maxConnectionsPerAddress, defaults.maxConnectionsPerAddress)
    }
}
