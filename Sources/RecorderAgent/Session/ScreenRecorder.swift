import Dispatch
import Foundation
import Logging
import RecorderCore
import Synchronization

/// Records a display on its own thread and hands finished segments to async code.
///
/// Back-pressure is explicit: at most `maxPendingSegments` finished segments wait for the consumer;
/// beyond that the recording thread blocks (it never drops a segment silently).
public final class ScreenRecorder: Sendable {
    public let segments: SegmentStream
    private let displayName: String?
    private let settings: RecordingSettings
    private let logger: Logger
    private let stopRequested = Atomic<Bool>(false)
    private let state = Mutex(ThreadState.notStarted)
    private let continuation: AsyncStream<RecordedSegment>.Continuation
    private let permits: DispatchSemaphore
    private let commands = RecorderCommandQueue()
    private let legs: [CallLeg]
    private let journaling: SegmentJournaling?

    private enum ThreadState {
        case notStarted
        case running(waiter: CheckedContinuation<RecordingStatistics, Error>?)
        case finished(Result<RecordingStatistics, Error>)
    }

    /// `legs`: the legs the first segments belong to (a recording started for a call). `journaling`:
    /// seal each segment as it is recorded and journal it (`JournaledSegment`); nil keeps it in memory.
    public init(
        displayName: String?, settings: RecordingSettings, journaling: SegmentJournaling? = nil, logger: Logger,
        maxPendingSegments: Int = 2, legs: [CallLeg] = []
    ) {
        self.legs = legs
        self.journaling = journaling
        self.displayName = displayName
        self.settings = settings
        self.logger = logger
        permits = DispatchSemaphore(value: maxPendingSegments)
        let (stream, continuation) = AsyncStream<RecordedSegment>.makeStream(bufferingPolicy: .unbounded)
        self.continuation = continuation
        segments = SegmentStream(base: stream, permits: permits)
    }

    /// Opens the display and starts recording; returns once capture is set up (or throws why it cannot be).
    /// `duration` (seconds) ends the recording by itself; nil records until `stop()`.
    public func start(duration: Double?) async throws -> CaptureDescription {
        try settings.validate()
        return try await withCheckedThrowingContinuation { (ready: CheckedContinuation<CaptureDescription, Error>) in
            state.withLock { $0 = .running(waiter: nil) }
            let thread = Thread { [self] in
                runThread(duration: duration, ready: ready)
            }
            thread.name = "screen-recorder"
            thread.start()
        }
    }

    /// Sends a command to the recording thread and returns once it has taken effect (at most one
    /// short nap later: the thread looks between frames every 20 ms). A recorder that is not running
    /// returns at once.
    public func perform(_ action: RecorderCommand.Action) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let once = Mutex(false)
            let command = RecorderCommand(action) {
                let first = once.withLock { fired in
                    defer { fired = true }
                    return !fired
                }
                if first { done.resume() }
            }
            // Queued under the state's lock, and only while running: `complete` marks the recorder
            // finished under the same lock before it drains the queue, so no command can slip in after
            // the last drain and leave its caller waiting for ever.
            let queued: Bool = state.withLock {
                guard case .running = $0 else { return false }
                commands.add(command)
                return true
            }
            if !queued { command.applied() }
        }
    }

    /// Whether the recording thread has ended (stopped, or failed: the display went away).
    public var isFinished: Bool {
        state.withLock { if case .finished = $0 { true } else { false } }
    }

    /// Asks the recording to end; the segment in progress is finished and delivered.
    public func stop() {
        stopRequested.store(true, ordering: .releasing)
    }

    /// Waits until the recording thread has ended; rethrows the error that ended it, if any.
    public func finished() async throws -> RecordingStatistics {
        try await withCheckedThrowingContinuation { waiter in
            let result: Result<RecordingStatistics, Error>? = state.withLock { state in
                switch state {
                case .finished(let result): return result
                case .notStarted: return .failure(CancellationError())
                case .running:
                    state = .running(waiter: waiter)
                    return nil
                }
            }
            if let result { waiter.resume(with: result) }
        }
    }

    private func runThread(duration: Double?, ready: CheckedContinuation<CaptureDescription, Error>) {
        // The loop (and its X connection, SHM segment and encoder) is torn down inside `record`, before
        // `complete` wakes the waiter: otherwise the process could exit while Xlib is still closing.
        complete(record(duration: duration, ready: ready))
    }

    private func record(duration: Double?, ready: CheckedContinuation<CaptureDescription, Error>) -> Result<
        RecordingStatistics, Error
    > {
        let loop: RecordingLoop
        do {
            loop = try RecordingLoop(
                displayName: displayName, settings: settings, journaling: journaling, logger: logger, legs: legs)
        } catch {
            ready.resume(throwing: error)
            return .failure(error)
        }
        ready.resume(returning: loop.description)
        let deadline = duration.map { MonotonicClock.now() + Int64($0 * 1_000_000_000) }
        do {
            try loop.run(
                deadline: deadline,
                shouldStop: { stopRequested.load(ordering: .acquiring) },
                commands: { commands.take() },
                deliver: { segment in
                    permits.wait()
                    continuation.yield(segment)
                })
            return .success(loop.statistics)
        } catch {
            return .failure(error)
        }
    }

    private func complete(_ result: Result<RecordingStatistics, Error>) {
        continuation.finish()
        let waiter: CheckedContinuation<RecordingStatistics, Error>? = state.withLock { state in
            defer { state = .finished(result) }
            if case .running(let waiter) = state { return waiter }
            return nil
        }
        // Commands that arrived as the thread ended have nothing left to act on (none can come now).
        for command in commands.take() { command.applied() }
        waiter?.resume(with: result)
    }
}

/// The recorder's segments as an async sequence; asking for the next one releases the previous
/// one's place in the bounded queue, so a slow consumer slows the recorder instead of losing data.
public struct SegmentStream: AsyncSequence, Sendable {
    public typealias Element = RecordedSegment
    let base: AsyncStream<RecordedSegment>
    let permits: DispatchSemaphore

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncStream<RecordedSegment>.AsyncIterator
        let permits: DispatchSemaphore
        var holdsPermit = false

        public mutating func next() async -> RecordedSegment? {
            if holdsPermit {
                permits.signal()
                holdsPermit = false
            }
            let segment = await base.next()
            holdsPermit = segment != nil
            return segment
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), permits: permits)
    }
}
