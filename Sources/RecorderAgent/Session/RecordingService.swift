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
        _ = try await withGracefulShutdownHandler {
            try await recorder.finished()
        } onGracefulShutdown: {
            recorder.stop()
        }
    }
}

/// Consumes finished segments until the recorder's stream ends. It deliberately ignores graceful
/// shutdown: the recorder stops first, and every segment it produced must still be written.
public struct SegmentSinkService: Service {
    let segments: SegmentStream
    let handle: @Sendable (RecordedSegment) async throws -> Void

    public init(segments: SegmentStream, handle: @escaping @Sendable (RecordedSegment) async throws -> Void) {
        self.segments = segments
        self.handle = handle
    }

    public func run() async throws {
        for await segment in segments {
            try await handle(segment)
        }
    }
}
