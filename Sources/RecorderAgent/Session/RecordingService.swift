import Logging
import ServiceLifecycle

/// Runs a `ScreenRecorder` as a lifecycle service: graceful shutdown (SIGTERM/SIGINT) stops capture,
/// and the segment in progress is finished, not lost.
public struct RecordingService: Service {
    let recorder: ScreenRecorder
    let duration: Double?
    let onStart: @Sendable (CaptureDescription) -> Void

    public init(recorder: ScreenRecorder, duration: Double?, onStart: @escaping @Sendable (CaptureDescription) -> Void)
    {
        self.recorder = recorder
        self.duration = duration
        self.onStart = onStart
    }

    public func run() async throws {
        let description = try await recorder.start(duration: duration)
        onStart(description)
        // Graceful shutdown and cancellation both end the recording thread; either way we wait for it,
        // because it still delivers the segment in progress.
        _ = try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await recorder.finished()
            } onGracefulShutdown: {
                recorder.stop()
            }
        } onCancel: {
            recorder.stop()
        }
    }
}

/// Consumes finished segments until the recorder's stream ends, then waits for its turn in the
/// group's graceful shutdown (returning earlier would count as an unexpected exit while the recorder
/// is still being shut down). The recorder stops first; every segment it produced reaches `handle`.
///
/// If `handle` fails, `onFailure` is told at once (the command stops the recorder), later segments are
/// still taken off the stream so the recording thread never blocks, and the first error is thrown.
public struct SegmentSinkService: Service {
    let segments: SegmentStream
    let handle: @Sendable (RecordedSegment) async throws -> Void
    let onFailure: @Sendable (Error) -> Void

    public init(
        segments: SegmentStream, handle: @escaping @Sendable (RecordedSegment) async throws -> Void,
        onFailure: @escaping @Sendable (Error) -> Void
    ) {
        self.segments = segments
        self.handle = handle
        self.onFailure = onFailure
    }

    public func run() async throws {
        var firstError: Error?
        for await segment in segments {
            do {
                try await handle(segment)
            } catch {
                if firstError == nil { onFailure(error) }
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
        try? await gracefulShutdown()
    }
}
