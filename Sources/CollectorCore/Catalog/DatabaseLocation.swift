/// Where the catalog lives: an SQLite file (the embedded default) or a PostgreSQL server (several
/// collectors sharing one catalog). Parsed from `sqlite:PATH` / a plain path, or a `postgres://` URL.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    public struct Invalid: Error, CustomStringConvertible {
        public let value: String
        public var description: String {
            "database \"\(value)\" is neither sqlite:PATH (or a file path) nor postgres://USER:PASSWORD@HOST:PORT/DATABASE"
        }
    }

    public init(parsing value: String) throws {
        if value.hasPrefix("postgres://") || value.hasPrefix("postgresql://") {
            self = .postgres(url: value)
        } else if value.hasPrefix("sqlite:") {
            let path = String(value.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw Invalid(value: value) }
            self = .sqlite(path: path)
        } else if value.hasPrefix("/") || value.hasPrefix(".") {
            self = .sqlite(path: value)
        } else {
            throw Invalid(value: value)
        }
    }

    /// Never prints a PostgreSQL password.
    public var description: String {
        switch self {
        case .sqlite(let path):
            return "sqlite:\(path)"
        case .postgres(let url):
            guard let at = url.lastIndex(of: "@"), let scheme = url.range(of: "://") else { return url }
            let credentials = url[scheme.upperBound..<at]
            let user = credentials.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
            return url[..<scheme.upperBound] + user + ":***" + url[at...]
        }
    }
}
