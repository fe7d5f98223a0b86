import ArgumentParser
import Foundation
import Logging
import RecorderAgent
import RecorderCore
import ServiceLifecycle

/// `recorder-agent record`: records a display into plain WebM segments (the debugging sink).
struct RecordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record a display into self-contained, seekable WebM segments.",
        discussion: "SIGINT or SIGTERM finishes the segment in progress (a complete, playable file) and exits 0.")

    @Option(help: "X display to record (default: $DISPLAY).")
    var display: String?

    @Option(help: "Stop after this long, e.g. 20s, 5m, 1h30m (default: until SIGINT/SIGTERM).")
    var duration: String?

    @Option(help: "Directory for the .webm segments (created if missing).")
    var out: String

    @Option(help: "Frames per second sampled from the screen (unchanged frames are skipped).")
    var fps: Double = RecordingSettings().framesPerSecond

    @Option(help: "VP8 target bitrate in kbit/s.")
    var bitrate: Int = RecordingSettings().bitrateKbps

    @Option(name: .customLong("cpu-used"), help: "libvpx speed: 0 (best quality) to 16 (fastest).")
    var cpuUsed: Int = RecordingSettings().cpuUsed

    @Option(name: .customLong("segment-length"), help: "Longest segment, e.g. 60s.")
    var segmentLength: String = "60s"

    @Option(name: .customLong("keyframe-interval"), help: "Extra keyframes inside a segment, e.g. 10s (default: only at segment start).")
    var keyframeInterval: String?

    @Option(help: "Record only this RandR monitor (see `recorder-agent monitors`).")
    var monitor: String?

    @Flag(name: .customLong("no-cursor"), help: "Do not draw the pointer into the frames.")
    var noCursor = false

    @Flag(name: .customLong("force-xgetimage"), help: "Capture with XGetImage even when MIT-SHM is available.")
    var forceXGetImage = false

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func settings() throws -> RecordingSettings {
        var settings = RecordingSettings()
        settings.framesPerSecond = fps
        settings.bitrateKbps = bitrate
        settings.cpuUsed = cpuUsed
        settings.segmentSeconds = try DurationText.parseSeconds(segmentLength)
        settings.keyframeIntervalSeconds = try keyframeInterval.map(DurationText.parseSeconds) ?? 0
        settings.monitor = monitor
        settings.drawCursor = !noCursor
        settings.forceXGetImage = forceXGetImage
        try settings.validate()
        return settings
    }

    func run() async throws {
        let logger = try AgentLogging.makeLogger(level: logLevel)
        let settings = try settings()
        let seconds = try duration.map(DurationText.parseSeconds)
        if let seconds, seconds <= 0 {
            throw ValidationError("--duration must be longer than 0 s")
        }
        let directory = try SegmentDirectory(path: out)
        let recorder = ScreenRecorder(displayName: display, settings: settings, logger: logger)
        let written = WrittenFiles()

        let recording = RecordingService(recorder: recorder, duration: seconds) { capture in
            logger.info(
                "recording",
                metadata: [
                    "display": "\(capture.display)", "area": "\(capture.area)", "method": "\(capture.method)",
                    "damage": "\(capture.damageTracking)", "cursor": "\(capture.cursor)",
                ])
        }
        let sink = SegmentSinkService(segments: recorder.segments) { segment in
            let url = try directory.write(segment)
            written.append(url.path)
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: sink, successTerminationBehavior: .gracefullyShutdownGroup),
                    .init(
                        service: recording, successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        // Segments finished before a failure are on disk; list them before reporting the error.
        defer { printSummary(written.paths) }
        try await group.run()
    }

    private func printSummary(_ paths: [String]) {
        guard !paths.isEmpty else { return }
        print("Wrote \(paths.count) segment(s):")
        for path in paths { print("  \(path)") }
        print("Play one with: ffplay \(paths[0])   (or open it in a web browser)")
    }
}
