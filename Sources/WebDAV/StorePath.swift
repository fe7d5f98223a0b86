import Foundation

/// A path inside the built-in store, from a request URL: percent-decoded component by component, and
/// refused when a component could leave the store (`.`, `..`, an encoded `/` or `\`, NUL) — so
/// `%2e%2e`, `..%2f` and absolute tricks never reach the file system. Symlinks are refused separately,
/// when the path is resolved on disk.
public struct StorePath: Sendable, Equatable, CustomStringConvertible {
    public let components: [String]
    /// The request named a collection (trailing slash).
    public let trailingSlash: Bool

    public init(components: [String], trailingSlash: Bool = false) {
        self.components = components
        self.trailingSlash = trailingSlash
    }

    /// `rawPath` is the part after `/dav`, still percent-encoded (e.g. `/emea/paris/x%20y.json`).
    public init(parsing rawPath: String) throws {
        var parts = rawPath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.first == "" { parts.removeFirst() }
        trailingSlash = parts.last == "" && !parts.isEmpty
        if trailingSlash { parts.removeLast() }
        var decoded: [String] = []
        for part in parts {
            guard let component = part.removingPercentEncoding else {
                throw StoreError(.invalid, "bad percent-encoding in \"\(part)\"")
            }
            // Control characters too: a CR/LF in a file name is trouble for every tool that lists it.
            guard !component.isEmpty, component != ".", component != "..", !component.contains("/"),
                !component.contains("\\"),
                !component.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }),
                component.utf8.count <= 255
            else {
                throw StoreError(.forbidden, "path component \"\(part)\" is not allowed in the store")
            }
            decoded.append(component)
        }
        components = decoded
    }

    public var parent: StorePath? {
        components.isEmpty ? nil : StorePath(components: Array(components.dropLast()))
    }

    public var description: String { "/" + components.joined(separator: "/") }

    /// The URL path under `/dav`, percent-encoded (for Location and href).
    public func href(collection: Bool) -> String {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        let encoded = components.map { $0.addingPercentEncoding(withAllowedCharacters: allowed)! }
        return "/dav/" + encoded.joined(separator: "/") + (collection && !components.isEmpty ? "/" : "")
    }
}
