import CollectorCore
@testable import CollectorHTTP
import Synchronization
import Testing

/// Exports and idle searches read whole calls: one runs, a bounded few wait, and each user has one
/// running or waiting. A client that gave up still holds its place, so without these bounds the
/// queue grew without end.
struct HeavyRequestsTests {
    /// `user`'s request, running until the continuation is yielded to.
    static func running<R: Sendable>(_ heavy: HeavyRequests, for user: String, returning value: R) async
        -> (Task<R, any Error>, AsyncStream<Void>.Continuation)
    {
        let (release, releasing) = AsyncStream<Void>.makeStream()
        let (started, starting) = AsyncStream<Void>.makeStream()
        let task = Task {
            try await heavy.run(for: user) {
                starting.yield()
                for await _ in release { break }
                return value
            }
        }
        var startedIterator = started.makeAsyncIterator()
        _ = await startedIterator.next()
        return (task, releasing)
    }

    @Test func oneRunsAFewWaitAndEachUserHasOne() async throws {
        let heavy = HeavyRequests("an export", queueLimit: 1)
        let (first, releasing) = await Self.running(heavy, for: "user:a", returning: "a")

        // The same user again, while theirs runs: told to wait for it.
        do {
            _ = try await heavy.run(for: "user:a") { "again" }
            Issue.record("a second request of one user was taken")
        } catch let error as CollectorError {
            #expect(error.kind == .busy && error.message.contains("earlier request for an export") && error.retryAfterSeconds != nil)
        }
        // Another user waits; one more finds the queue full.
        let second = Task { try await heavy.run(for: "user:b") { "b" } }
        while heavy.turn.waiting == 0 { await Task.yield() }
        do {
            _ = try await heavy.run(for: "user:c") { "c" }
            Issue.record("a request past the queue's limit was taken")
        } catch let error as CollectorError {
            #expect(error.kind == .busy && error.message.contains("from others"))
        }
        releasing.yield()
        #expect(try await first.value == "a")
        #expect(try await second.value == "b")
        // Done: the user may ask again.
        #expect(try await heavy.run(for: "user:a") { "later" } == "later")
    }

    /// A request whose client hung up while it waited is dropped when its turn comes: a queue filled
    /// by clients that gave up no longer keeps everyone else waiting for minutes.
    @Test func aRequestWhoseClientLeftIsDroppedAtItsTurn() async throws {
        let heavy = HeavyRequests("an export")
        let (first, releasing) = await Self.running(heavy, for: "user:a", returning: true)
        let ran = Mutex(false)
        let gone = Task {
            try await heavy.run(for: "user:b", stillWanted: { false }) {
                ran.withLock { $0 = true }
                return true
            }
        }
        while heavy.turn.waiting == 0 { await Task.yield() }
        releasing.yield()
        #expect(try await first.value)
        await #expect(throws: CancellationError.self) { try await gone.value }
        #expect(!ran.withLock { $0 }, "the work of a client that left never ran")
        #expect(try await heavy.run(for: "user:b") { "again" } == "again")
    }
}
