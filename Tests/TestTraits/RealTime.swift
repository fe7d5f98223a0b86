import Testing

/// Suites whose tests run real programs against the clock (X servers recording at a frame rate,
/// timeouts, throttles, kill -9 at chosen moments) take turns with every other such suite in the
/// process, whichever test target they are in: on two cores, a recording next to another recording
/// drops frames and a timeout test next to a load test fires late. Pure unit tests stay parallel.
/// `swift test` is therefore safe with or without `--no-parallel`.
public struct RealTimeTrait: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        // Held per test case, never around a whole suite (its own cases would wait for it), and
        // taken once: a `.realTime` test in a `.realTime` suite already holds the turn.
        guard testCase != nil, !RealTimeTurns.held else { return try await function() }
        try await RealTimeTurns.shared.take {
            try await RealTimeTurns.$held.withValue(true) { try await function() }
        }
    }
}

extension Trait where Self == RealTimeTrait {
    /// Runs each test alone among all `.realTime` tests of the process.
    public static var realTime: Self { RealTimeTrait() }
}

/// One turn at a time, first come first served.
actor RealTimeTurns {
    static let shared = RealTimeTurns()
    /// True inside a test that holds the turn.
    @TaskLocal static var held = false
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func take(_ work: @Sendable () async throws -> Void) async throws {
        if busy {
            await withCheckedContinuation { waiting.append($0) }
        } else {
            busy = true
        }
        defer { handOver() }
        try await work()
    }

    private func handOver() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}
