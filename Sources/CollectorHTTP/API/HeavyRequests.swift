import CollectorCore
import Synchronization

/// Work a user asks for that reads a whole call (an export, the search for idle stretches): one at a
/// time for the collector (`AsyncTurn`), at most `queueLimit` waiting, and one running or waiting per
/// user. A client that gave up still holds its place until its turn comes (the server does not learn
/// of it), so neither one user nor many can queue without bound: past either limit the answer is 503
/// with Retry-After, and nothing is lost by asking again. A request whose client left while it
/// waited is dropped when its turn comes.
final class HeavyRequests: Sendable {
    let turn: AsyncTurn
    private let users = Mutex<Set<String>>([])
    let what: String

    init(_ what: String, queueLimit: Int = 8) {
        self.what = what
        turn = AsyncTurn(limit: 1, queueLimit: queueLimit)
    }

    /// `body` once its turn comes, unless the client has gone by then (`stillWanted` false): a queue
    /// filled by clients that hung up is passed through, not worked through.
    func run<R>(for user: String, stillWanted: () -> Bool = { true }, _ body: () async throws -> R) async throws -> R {
        let admitted = users.withLock { $0.insert(user).inserted }
        guard admitted else {
            throw CollectorError(
                .busy, "your earlier request for \(what) is still running; wait for it, then ask again",
                retryAfterSeconds: 10)
        }
        defer { _ = users.withLock { $0.remove(user) } }
        do {
            return try await turn.run {
                guard stillWanted() else { throw CancellationError() }
                return try await body()
            }
        } catch is AsyncTurn.Full {
            throw CollectorError(.busy, "the collector is busy with requests for \(what) from others; try again in a minute", retryAfterSeconds: 60)
        }
    }
}
