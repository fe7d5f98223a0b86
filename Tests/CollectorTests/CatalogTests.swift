import CollectorCore
import Foundation
import SQLKit
import TestTraits
import Testing

/// The catalog's services on both real databases: the same code path, the same results.
@Suite(.serialized, .realTime)
struct CatalogTests {
    @Test(arguments: Backend.allCases)
    func migrationsRunOnceAndBootstrapIsIdempotent(_ backend: Backend) async throws {
        try await withCollector(backend) { collector in
            let first = try await collector.bootstrap()
            #expect(first?.username == "admin")
            #expect(try await collector.bootstrap() == nil, "a second start creates no second admin")
            let versions = try await collector.catalog.sql.raw("SELECT version FROM schema_migrations").all()
            #expect(versions.count == Catalog.schemaVersion)
            #expect(try await collector.nodePaths.list().map(\.path) == ["/"])
            #expect(try await collector.storageTargets.list().map(\.name) == ["builtin"])
            // The generated password works, a wrong one does not.
            let (token, user) = try await collector.users.logIn(username: "admin", password: first!.password, source: "t")
            #expect(user.role == .admin)
            #expect(try await collector.users.user(forSessionToken: token)?.username == "admin")
            #expect(try await collector.users.user(forSessionToken: token + "x") == nil)
            await #expect(throws: CollectorError.self) {
                try await collector.users.logIn(username: "admin", password: "wrong password!", source: "t")
            }
            await #expect(throws: CollectorError.self) {
                try await collector.users.logIn(username: "nobody", password: first!.password, source: "t")
            }
            let actions = try await AuditLog.entries(in: collector.catalog.sql).map(\.action)
            #expect(actions.prefix(3) == ["user.login_failed", "user.login_failed", "user.login"])
        }
    }

    @Test(arguments: Backend.allCases)
    func nodePathsResolveToTheLongestConfiguredPrefix(_ backend: Backend) async throws {
        try await withCollector(backend) { collector in
            _ = try await collector.bootstrap()
            _ = try await collector.storageTargets.create(
                StorageTargetInput(
                    name: "paris-dav", url: "https://dav.paris.example/rec", auth: StorageTargetRecord.Authentication.none),
                by: adminActor)
            _ = try await collector.nodePaths.create(
                NodePathInput(path: "/emea/paris", storage: "paris-dav"), by: adminActor)
            _ = try await collector.nodePaths.create(NodePathInput(path: "/emea", storage: "builtin"), by: adminActor)

            #expect(try await collector.nodePaths.resolve("/emea/paris/sales")?.path == "/emea/paris")
            #expect(try await collector.nodePaths.resolve("/emea/paris")?.storage == "paris-dav")
            #expect(
                try await collector.nodePaths.resolve("/emea/parisian")?.path == "/emea", "prefixes are whole components")
            #expect(try await collector.nodePaths.resolve("/apac/tokyo")?.path == "/")

            _ = try await collector.nodePaths.update("/emea/paris", NodePathInput(storage: "builtin"), by: adminActor)
            #expect(try await collector.nodePaths.resolve("/emea/paris/sales")?.storage == "builtin")
            try await collector.nodePaths.delete("/emea/paris", by: adminActor)
            #expect(try await collector.nodePaths.resolve("/emea/paris/sales")?.path == "/emea")
        }
    }

    @Test(arguments: Backend.allCases)
    func refusedChangesWriteNothingNotEvenAnAuditEntry(_ backend: Backend) async throws {
        try await withCollector(backend) { collector in
            _ = try await collector.bootstrap()
            let before = try await AuditLog.entries(in: collector.catalog.sql).count

            let refusals: [(String, () async throws -> Void)] = [
                (
                    "bad syntax",
                    {
                        _ = try await collector.nodePaths.create(
                            NodePathInput(path: "emea", storage: "builtin"), by: adminActor)
                    }
                ),
                (
                    "dot-dot",
                    {
                        _ = try await collector.nodePaths.create(
                            NodePathInput(path: "/a/../b", storage: "builtin"), by: adminActor)
                    }
                ),
                (
                    "unknown storage",
                    { _ = try await collector.nodePaths.create(NodePathInput(path: "/a", storage: "nas"), by: adminActor) }
                ),
                (
                    "duplicate",
                    {
                        _ = try await collector.nodePaths.create(
                            NodePathInput(path: "/", storage: "builtin"), by: adminActor)
                    }
                ),
                (
                    "unknown path",
                    {
                        _ = try await collector.nodePaths.update(
                            "/nowhere", NodePathInput(storage: "builtin"), by: adminActor)
                    }
                ),
                (
                    "http url",
                    {
                        _ = try await collector.storageTargets.create(
                            StorageTargetInput(name: "x", url: "http://dav.example"), by: adminActor)
                    }
                ),
                (
                    "digest without password",
                    {
                        _ = try await collector.storageTargets.create(
                            StorageTargetInput(name: "x", url: "https://dav.example", auth: .digest, username: "u"),
                            by: adminActor)
                    }
                ),
                (
                    "bad name",
                    {
                        _ = try await collector.storageTargets.create(
                            StorageTargetInput(name: "Paris DAV", url: "https://dav.example"), by: adminActor)
                    }
                ),
                ("target in use", { try await collector.storageTargets.delete("builtin", by: adminActor) }),
            ]
            for (label, attempt) in refusals {
                do {
                    try await attempt()
                    Issue.record("\(label) was accepted")
                } catch let error as CollectorError {
                    #expect(!error.message.isEmpty, "\(label)")
                }
            }
            #expect(try await AuditLog.entries(in: collector.catalog.sql).count == before)
            #expect(try await collector.nodePaths.list().map(\.path) == ["/"])
            #expect(try await collector.storageTargets.list().map(\.name) == ["builtin"])
        }
    }

    @Test(arguments: Backend.allCases)
    func storageSecretsAreSealedAtRestAndNeverReturned(_ backend: Backend) async throws {
        try await withCollector(backend) { collector in
            let secret = "dav-pässword-0042"
            let created = try await collector.storageTargets.create(
                StorageTargetInput(
                    name: "paris-dav", url: "https://dav.paris.example/rec/", auth: .digest, username: "ws",
                    password: secret),
                by: adminActor)
            #expect(created.hasSecret)
            #expect(created.url == "https://dav.paris.example/rec")
            let encoded = String(decoding: try JSONEncoder().encode(created), as: UTF8.self)
            #expect(!encoded.contains(secret) && !encoded.contains("password"))
            let raw = try await collector.catalog.sql.raw("SELECT * FROM storage_targets WHERE name = 'paris-dav'").first()
            let stored = try raw?.decode(column: "sealed_secret", as: String.self) ?? ""
            #expect(!stored.contains(secret) && !stored.isEmpty)
            #expect(try await collector.storageTargets.secret(of: "paris-dav") == secret)
            let audit = try await AuditLog.entries(in: collector.catalog.sql)
            #expect(!audit.contains { $0.detail.contains(secret) })

            // An update without a password keeps it; switching to bearer needs a token.
            _ = try await collector.storageTargets.update("paris-dav", StorageTargetInput(username: "ws2"), by: adminActor)
            #expect(try await collector.storageTargets.secret(of: "paris-dav") == secret)
            await #expect(throws: CollectorError.self) {
                _ = try await collector.storageTargets.update(
                    "paris-dav", StorageTargetInput(auth: .bearer), by: adminActor)
            }
            let bearer = try await collector.storageTargets.update(
                "paris-dav", StorageTargetInput(auth: .bearer, bearerToken: "tok-1"), by: adminActor)
            #expect(bearer.username == nil && bearer.hasSecret)
            #expect(try await collector.storageTargets.secret(of: "paris-dav") == "tok-1")
        }
    }

    @Test func passwordsAreScryptHashesComparedInConstantTime() throws {
        let hash = try PasswordHash.make("correct horse battery", parameters: .fast)
        #expect(hash.hasPrefix("scrypt$32$8$1$"))
        #expect(PasswordHash.verify("correct horse battery", against: hash))
        #expect(!PasswordHash.verify("correct horse batterz", against: hash))
        #expect(!PasswordHash.verify("correct horse battery", against: "scrypt$garbage"))
        #expect(
            try PasswordHash.make("same", parameters: .fast) != PasswordHash.make("same", parameters: .fast), "salted")
        #expect(ConstantTime.equal([1, 2, 3] as [UInt8], [1, 2, 3] as [UInt8]))
        #expect(!ConstantTime.equal([1, 2, 3] as [UInt8], [1, 2] as [UInt8]))
    }

    @Test func databaseLocationsParseAndHidePasswords() throws {
        #expect(try DatabaseLocation(parsing: "/var/lib/c.sqlite") == .sqlite(path: "/var/lib/c.sqlite"))
        #expect(try DatabaseLocation(parsing: "sqlite:./c.db") == .sqlite(path: "./c.db"))
        let postgres = try DatabaseLocation(parsing: "postgres://rec:hunter2@db.example:5432/catalog")
        #expect("\(postgres)" == "postgres://rec:***@db.example:5432/catalog")
        #expect(throws: DatabaseLocation.Invalid.self) { try DatabaseLocation(parsing: "mysql://x") }
    }
}
