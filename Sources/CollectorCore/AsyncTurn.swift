import Synchronization

/// First come, first served, at most `limit` at once: `run` waits for its turn without blocking a
/// thread. One at a time is the SQLite connection's turn (`SerializedDatabase`); a few at a time
/// bound work that holds much memory (sealing voice, opening recordings for playback).
public final class AsyncTurn: Sendable {
    private struct State {
        var running = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())
    private let limit: Int

    public init(limit: Int = 1) { self.limit = max(1, limit) }

    public func run<R>(_ body: () async throws -> R) async throws -> R {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state in
                if state.running >= limit {
                    state.waiting.append(continuation)
                    return false
                }
                state.running += 1
                return true
            }
            if granted { continuation.resume() }
        }
    }

    /// The turn passes to the first waiting, if any (the count stays: it is theirs now).
    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiting.isEmpty {
                state.running -= 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
