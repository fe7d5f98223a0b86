import Foundation
import NIOPosix
import Synchronization

/// scrypt costs ~0.1 s of CPU and 32 MiB per check. It runs on threads of its own, at most
/// `concurrency` at a time, never on the tasks that serve requests: with checks on those, a few
/// clients sending wrong Basic credentials slowed an agent's configuration request from 9 ms to
/// over a second. At most `maximumWaiting` checks queue; past that a check fails at once as busy.
public final class PasswordHasher: Sendable {
    public let parameters: PasswordHash.Parameters
    private let pool: NIOThreadPool
    private let waiting = Atomic<Int>(0)
    let maximumWaiting: Int

    public init(parameters: PasswordHash.Parameters = .standard, concurrency: Int = 2, maximumWaiting: Int = 64) {
        self.parameters = parameters
        self.maximumWaiting = maximumWaiting
        pool = NIOThreadPool(numberOfThreads: concurrency)
        pool.start()
    }

    deinit {
        pool.shutdownGracefully { _ in }
    }

    public struct Busy: Error, CustomStringConvertible {
        public var description: String { "too many password checks are waiting; try again in a few seconds" }
    }

    public func verify(_ password: String, against stored: String) async throws -> Bool {
        try await run { PasswordHash.verify(password, against: stored) }
    }

    public func make(_ password: String) async throws -> String {
        let parameters = self.parameters
        return try await run { try PasswordHash.make(password, parameters: parameters) }
    }

    private func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        let queued = waiting.add(1, ordering: .relaxed).newValue
        defer { waiting.subtract(1, ordering: .relaxed) }
        guard queued <= maximumWaiting else { throw Busy() }
        return try await pool.runIfActive(work)
    }
}
