/// A node path such as `/emea/paris/sales`: where a workstation sits in the organisation. It becomes
/// part of storage paths, so its syntax is strict: absolute, components of letters, digits, `.`, `_`
/// and `-`, no empty, `.` or `..` components, at most 16 levels of 64 characters.
public enum NodePath {
    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public let path: String
        public let reason: String
        public var description: String {
            "invalid node path \"\(path)\": \(reason) (expected e.g. /emea/paris/sales)"
        }
    }

    public static func validate(_ path: String) throws {
        guard path.hasPrefix("/") else { throw Invalid(path: path, reason: "it must start with /") }
        guard path != "/" else { return }
        let components = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        guard components.count <= 16 else { throw Invalid(path: path, reason: "more than 16 levels") }
        for component in components {
            guard !component.isEmpty else { throw Invalid(path: path, reason: "empty component (// or a trailing /)") }
            guard component != ".", component != ".." else {
                throw Invalid(path: path, reason: "\(component) is not allowed")
            }
            guard component.count <= 64 else {
                throw Invalid(path: path, reason: "a component longer than 64 characters")
            }
            guard component.unicodeScalars.allSatisfy({ allowed.contains($0) }) else {
                throw Invalid(path: path, reason: "\"\(component)\" has characters other than letters, digits, . _ -")
            }
        }
    }

    private static let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-".unicodeScalars)
}
