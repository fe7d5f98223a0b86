import Foundation
import Logging

/// The collector's state and services over one catalog, shared by the HTTP API and the admin CLI so
/// both apply the same validation and write the same audit entries.
public struct Collector: Sendable {
    public let catalog: Catalog
    public let users: Users
    public let storageTargets: StorageTargets
    public let nodePaths: NodePaths
    public let dataDirectory: URL

    /// Opens (and migrates) the catalog and the secrets key of `dataDirectory` (created 0700).
    public static func open(
        dataDirectory: URL, database: DatabaseLocation? = nil, hashing: PasswordHash.Parameters = .standard,
        logger: Logger
    ) async throws -> Collector {
        try FileManager.default.createDirectory(
            at: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let location = database ?? .sqlite(path: dataDirectory.appendingPathComponent("catalog.sqlite").path)
        let secrets = try SecretBox.loadOrCreate(at: dataDirectory.appendingPathComponent("secrets.key"))
        let catalog = try await Catalog.open(location, logger: logger)
        return Collector(
            catalog: catalog, users: Users(catalog: catalog, hashing: hashing),
            storageTargets: StorageTargets(catalog: catalog, secrets: secrets), nodePaths: NodePaths(catalog: catalog),
            dataDirectory: dataDirectory)
    }

    /// What a fresh collector needs to work out of the box: the built-in storage target, the root node
    /// path mapped to it, and a first admin whose generated password is returned (to be shown once).
    /// Does nothing that is already there; returns nil when an admin exists.
    public func bootstrap() async throws -> (username: String, password: String)? {
        if (try? await storageTargets.get(StorageTargets.builtinName)) == nil {
            _ = try await storageTargets.create(
                StorageTargetInput(name: StorageTargets.builtinName, kind: .builtin), by: .system)
        }
        if try await nodePaths.resolve("/") == nil {
            _ = try await nodePaths.create(NodePathInput(path: "/", storage: StorageTargets.builtinName), by: .system)
        }
        guard try await users.count == 0 else { return nil }
        let password = BearerToken.make(prefix: "pw").dropFirst(3).prefix(24)
        try await users.createAdmin(username: "admin", password: String(password), by: .system)
        return ("admin", String(password))
    }

    public func close() async {
        await catalog.close()
    }
}
