import Foundation
import SQLKit
import WebDAV

/// WebDAV dead properties (RFC 4918 §4) of the built-in store, kept in the catalog: set and removed by
/// PROPPATCH (all of one request or none, in one transaction), returned by PROPFIND, and carried along
/// when a resource is deleted, moved or copied (with everything under a collection). Values are stored
/// as self-contained XML fragments (every element declares its namespace), so they come back exactly.
package struct DeadProperties: Sendable {
    package let catalog: Catalog

    package init(catalog: Catalog) {
        self.catalog = catalog
    }

    /// The dead properties of `path` and, with depth 1, of its members, keyed by path: one query for a
    /// whole PROPFIND however many members it lists.
    package func all(_ path: StorePath, depth: Int) async throws -> [String: [PropertyName: String]] {
        let condition: SQLQueryString = depth == 0 ? "path = \(bind: path.description)" : DeadProperties.tree(path)
        let deepest = path.components.count + depth
        var found: [String: [PropertyName: String]] = [:]
        for row in try await catalog.sql.raw(
            "SELECT path, namespace, name, value FROM dav_properties WHERE " + condition
        )
        .all() {
            let owner = try row.decode(column: "path", as: String.self)
            guard owner.split(separator: "/").count <= deepest else { continue }
            let name = PropertyName(
                namespace: try row.decode(column: "namespace", as: String.self),
                name: try row.decode(column: "name", as: String.self))
            found[owner, default: [:]][name] = try row.decode(column: "value", as: String.self)
        }
        return found
    }

    /// More dead properties than this on one resource are refused (litmus sets at most 10).
    package static let maximumPerResource = 64

    /// What a property costs in the quota: its name, namespace and value, in characters (what both
    /// databases' `length` counts).
    package static func cost(_ name: PropertyName, _ value: String) -> Int64 {
        Int64(name.namespace.unicodeScalars.count + name.name.unicodeScalars.count + value.unicodeScalars.count)
    }

    /// Bytes the dead properties of `path` and everything below it take.
    package func bytes(_ path: StorePath) async throws -> Int64 {
        guard try await anyProperties(path) else { return 0 }
        let row = try await catalog.sql.raw(
            "SELECT SUM(length(namespace) + length(name) + length(value)) AS total FROM dav_properties WHERE "
                + DeadProperties.tree(path)
        ).first()
        return Int64(try row?.decode(column: "total", as: Int?.self) ?? 0)
    }

    /// How many bytes applying `updates` to `path` adds (negative when it frees some); refuses a
    /// resource that would end up with more than `maximumPerResource` properties.
    package func growth(of updates: [PropertyUpdate], on path: StorePath) async throws -> Int64 {
        var properties = try await all(path, depth: 0)[path.description] ?? [:]
        let before = properties.reduce(0) { $0 + DeadProperties.cost($1.key, $1.value) }
        for update in updates {
            switch update {
            case .set(let name, let value): properties[name] = value
            case .remove(let name): properties[name] = nil
            }
        }
        guard properties.count <= DeadProperties.maximumPerResource else {
            throw CollectorError(
                .forbidden,
                "\(path) would have \(properties.count) dead properties; at most \(DeadProperties.maximumPerResource) are kept"
            )
        }
        return properties.reduce(0) { $0 + DeadProperties.cost($1.key, $1.value) } - before
    }

    /// Applies the updates in document order, atomically.
    package func apply(_ updates: [PropertyUpdate], to path: StorePath) async throws {
        let key = path.description
        try await catalog.transaction { database in
            for update in updates {
                switch update {
                case .set(let property, let value):
                    try await database.raw(
                        """
                        DELETE FROM dav_properties WHERE path = \(bind: key) AND namespace = \(bind: property.namespace)
                        AND name = \(bind: property.name)
                        """
                    ).run()
                    try await database.raw(
                        """
                        INSERT INTO dav_properties (path, namespace, name, value)
                        VALUES (\(bind: key), \(bind: property.namespace), \(bind: property.name), \(bind: value))
                        """
                    ).run()
                case .remove(let property):
                    try await database.raw(
                        """
                        DELETE FROM dav_properties WHERE path = \(bind: key) AND namespace = \(bind: property.namespace)
                        AND name = \(bind: property.name)
                        """
                    ).run()
                }
            }
        }
    }

    /// `path` itself or anything below it (SQL that SQLite and PostgreSQL read alike; `substr` and
    /// the bound length count code points in both; PostgreSQL needs the CASTs to type `||` operands).
    private static func tree(_ path: StorePath) -> SQLQueryString {
        let key = path.description
        let prefix = path.components.isEmpty ? key : key + "/"
        return
            "(path = \(bind: key) OR substr(path, 1, CAST(\(bind: prefix.unicodeScalars.count) AS INTEGER)) = \(bind: prefix))"
    }

    /// Whether any of these subtrees has a dead property. Agents' uploads never set any, so their
    /// MOVEs and DELETEs cost this one read instead of a write transaction.
    private func anyProperties(_ paths: StorePath...) async throws -> Bool {
        let condition = paths.map(DeadProperties.tree).joined(separator: " OR ")
        return try await catalog.sql.raw("SELECT 1 AS found FROM dav_properties WHERE " + condition + " LIMIT 1")
            .first() != nil
    }

    package func removeTree(_ path: StorePath) async throws {
        guard try await anyProperties(path) else { return }
        try await catalog.sql.raw("DELETE FROM dav_properties WHERE " + DeadProperties.tree(path)).run()
    }

    /// After a MOVE: the properties follow the resource (the destination's old ones are gone).
    package func moveTree(_ source: StorePath, to destination: StorePath) async throws {
        guard try await anyProperties(source, destination) else { return }
        let skip = source.description.unicodeScalars.count + 1
        try await catalog.transaction { database in
            try await database.raw("DELETE FROM dav_properties WHERE " + DeadProperties.tree(destination)).run()
            try await database.raw(
                "UPDATE dav_properties SET path = CAST(\(bind: destination.description) AS TEXT) || substr(path, CAST(\(bind: skip) AS INTEGER)) WHERE "
                    + DeadProperties.tree(source)
            ).run()
        }
    }

    /// After a COPY: the destination gets copies of the source's properties.
    package func copyTree(_ source: StorePath, to destination: StorePath) async throws {
        guard try await anyProperties(source, destination) else { return }
        let skip = source.description.unicodeScalars.count + 1
        try await catalog.transaction { database in
            try await database.raw("DELETE FROM dav_properties WHERE " + DeadProperties.tree(destination)).run()
            try await database.raw(
                """
                INSERT INTO dav_properties (path, namespace, name, value)
                SELECT CAST(\(bind: destination.description) AS TEXT) || substr(path, CAST(\(bind: skip) AS INTEGER)), namespace, name, value
                FROM dav_properties WHERE
                """ + " " + DeadProperties.tree(source)
            ).run()
        }
    }
}
