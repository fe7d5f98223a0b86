import SQLKit

/// How much one call's review and the admins' definitions hold: plenty for real use, bounded so a
/// script cannot grow a call's review (every note and evaluation comes with its page) or the
/// definitions every reviewer's page loads without end. Before, 5000 notes made one call's review a
/// 40 MB answer.
enum ReviewLimits {
    static let notesPerCall = 500
    static let evaluationsPerCall = 100
    static let categories = 500
    static let fields = 100
    static let forms = 200

    /// Refuses (409) when `counting` (a `SELECT COUNT(*) AS n …`) has reached `limit`.
    static func ensureRoom(
        _ database: any SQLDatabase, counting: SQLQueryString, limit: Int, _ message: @autoclosure () -> String
    ) async throws {
        let count = try await database.raw(counting).first()?.decode(column: "n", as: Int.self) ?? 0
        guard count < limit else { throw CollectorError(.conflict, message()) }
    }
}
