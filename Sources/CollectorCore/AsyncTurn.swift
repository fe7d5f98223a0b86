import Synchronization

/// First come, first served, at most `limit` at once: `run` waits for its turn without blocking a
/// thread. One at a time is the SQLite connection's turn (`SerializedDatabase`); a few at a time
/// bound work that holds much memory (sealing voice, opening recordings for playback).
public final class AsyncTurn: Sendable {
    private struct State {
        var running = 0
        var waiting: [CheckedContinuation<Bool, Never>] = []
    }
    private let state = Mutex(State())
    private let limit: Int
    private let queueLimit: Int

    /// `queueLimit`: how many may wait; one more is refused (`Full`) rather than queued. Work a
    /// client asks for (an export) is bounded so, since a client that gave up still holds its place.
    public init(limit: Int = 1, queueLimit: Int = .max) {
        self.limit = max(1, limit)
        self.queueLimit = max(0, queueLimit)
    }

    /// The turn's queue is as long as it may be.
    public struct Full: Error {}

    /// How many wait for their turn now.
    public var waiting: Int { state.withLock { $0.waiting.count } }

    public func run<R>(_ body: () async throws -> R) async throws -> R {
        try await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async throws {
        let full = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            enum Outcome { case granted, queued, full }
            let outcome = state.withLock { state -> Outcome in
                if state.running < limit {
                    state.running += 1
                    return .granted
                }
                guard state.waiting.count < queueLimit else { return .full }
                state.waiting.append(continuation)
                return .queued
            }
            switch outcome {
            case .granted: continuation.resume(returning: false)
            case .full: continuation.resume(returning: true)
            case .queued: break
            }
        }
        if full { throw Full() }
    }

    /// The turn passes to the first waiting, if any (the count stays: it is theirs now).
    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            if state.waiting.isEmpty {
                state.running -= 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume(returning: false)
    }
}
