import Foundation
import RecorderCore
import SQLKit

/// Each user's named searches: the query string of the calls page (`ani=+33*&duration=>60`), kept as
/// given and run again through the same checks as a typed search. Private to their owner.
public struct SavedSearches: Sendable {
    let catalog: Catalog

    public struct Search: Codable, Sendable, Equatable {
        public var name: String
        public var query: String
    }

    static let limit = 50

    public func list(userId: String) async throws -> [Search] {
        try await catalog.sql.raw("SELECT name, query FROM saved_searches WHERE user_id = \(bind: userId) ORDER BY name").all().map {
            Search(name: try $0.decode(column: "name", as: String.self), query: try $0.decode(column: "query", as: String.self))
        }
    }

    /// Saves (or replaces) a search under a name of the user's choosing.
    public func save(_ given: Search, userId: String) async throws -> Search {
        let name = given.name.trimmingCharacters(in: .whitespacesAndNewlines)
        // Refused, not rewritten: the user deletes it later by the name they gave.
        guard (1...80).contains(name.unicodeScalars.count), !name.unicodeScalars.contains(where: OutsideText.isUnsafe) else {
            throw CollectorError(.invalid, "a saved search's name is 1 to 80 printable characters")
        }
        guard given.query.utf8.count <= 2000, given.query.unicodeScalars.allSatisfy({ !OutsideText.isUnsafe($0) }) else {
            throw CollectorError(.invalid, "a saved search's query is at most 2000 bytes of printable text")
        }
        let search = Search(name: name, query: given.query)
        try await catalog.transaction { database in
            let count = try await database.raw(
                "SELECT COUNT(*) AS n FROM saved_searches WHERE user_id = \(bind: userId) AND name <> \(bind: name)"
            ).first()?.decode(column: "n", as: Int.self) ?? 0
            guard count < Self.limit else {
                throw CollectorError(.conflict, "you have \(Self.limit) saved searches; delete one first")
            }
            try await database.raw("DELETE FROM saved_searches WHERE user_id = \(bind: userId) AND name = \(bind: name)").run()
            try await database.raw(
                """
                INSERT INTO saved_searches (user_id, name, query, created_at)
                VALUES (\(bind: userId), \(bind: name), \(bind: search.query), \(bind: Timestamp.now()))
                """
            ).run()
        }
        return search
    }

    public func delete(_ name: String, userId: String) async throws {
        let found = try await catalog.transaction { database in
            let exists = try await database.raw(
                "SELECT 1 AS x FROM saved_searches WHERE user_id = \(bind: userId) AND name = \(bind: name)"
            ).first() != nil
            try await database.raw("DELETE FROM saved_searches WHERE user_id = \(bind: userId) AND name = \(bind: name)").run()
            return exists
        }
        guard found else { throw CollectorError(.notFound, "no saved search \(OutsideText.bounded(name, limit: 80))") }
    }
}
