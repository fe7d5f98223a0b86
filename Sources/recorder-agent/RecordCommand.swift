import ArgumentParser
import Foundation
import Logging
import RecorderAgent
import RecorderCore

/// `recorder-agent record`: records a display into segments in the spool (sealed and uploaded when the
/// configuration says so, plain WebM for debugging otherwise). The services are `AgentRuntime`'s.
struct RecordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record a display into self-contained, seekable WebM segments.",
        discussion: "SIGINT or SIGTERM finishes the segment in progress (a complete, playable file) and exits 0.")

    @Option(help: "JSON configuration file (see Agent/agent.example.json); flags override its values.")
    var config: String?

    @Option(help: "X display to record (default: the config's display, then $DISPLAY).")
    var display: String?

    @Option(help: "Stop after this long, e.g. 20s, 5m, 1h30m (default: until SIGINT/SIGTERM).")
    var duration: String?

    @Option(help: "Directory for the .webm segments (created if missing; default: the config's output_directory).")
    var out: String?

    @Option(
        name: .customLong("recipient"),
        help: "PEM certificate to seal segments for (repeatable; files become .webm.p7m, openssl cms opens them).")
    var recipients: [String] = []

    @Option(
        name: .customLong("agent-id"), help: "Agent identity in manifests (default: the config's, then the host name).")
    var agentId: String?

    @Option(name: .customLong("node-path"), help: "Node path in manifests, e.g. /emea/paris/sales (default /).")
    var nodePath: String?

    @Option(
        name: .customLong("state-dir"),
        help: "Identity key and manifest chain (default: the config's, then $XDG_STATE_HOME/recorder-agent).")
    var stateDirectory: String?

    @Option(name: .customLong("spool-max-mb"), help: "Most disk the spool may use, in MB (default 2048).")
    var spoolMaxMB: Int?

    @Option(name: .customLong("spool-min-free-mb"), help: "Free disk the spool must leave, in MB (default 1024).")
    var spoolMinFreeMB: Int?

    @Option(help: "Frames per second sampled from the screen; unchanged frames are skipped (default 5).")
    var fps: Double?

    @Option(help: "VP8 target bitrate in kbit/s (default 300).")
    var bitrate: Int?

    @Option(name: .customLong("cpu-used"), help: "libvpx speed: 0 (best quality) to 16 (fastest) (default 8).")
    var cpuUsed: Int?

    @Option(name: .customLong("segment-length"), help: "Longest segment, e.g. 60s (default 60s).")
    var segmentLength: String?

    @Option(
        name: .customLong("keyframe-interval"),
        help: "Extra keyframes inside a segment, e.g. 10s (default: only at segment start).")
    var keyframeInterval: String?

    @Option(
        name: .customLong("journal-sync"),
        help: "How often the journal of the segment in progress is made durable, e.g. 2s (default 2s; 0 turns it off).")
    var journalSync: String?

    @Option(help: "Record only this RandR monitor (see `recorder-agent monitors`).")
    var monitor: String?

    @Flag(name: .customLong("no-cursor"), help: "Do not draw the pointer into the frames.")
    var noCursor = false

    @Flag(name: .customLong("force-xgetimage"), help: "Capture with XGetImage even when MIT-SHM is available.")
    var forceXGetImage = false

    @Flag(
        name: .customLong("follow-calls"),
        help: "Wait for calls and record them as the collector delivers their events (an enrolled agent's long-lived mode).")
    var followCalls = false

    @Option(
        help: "With --follow-calls: follow the calls of a baresip softphone through its ctrl_tcp socket, e.g. 127.0.0.1:4444.")
    var baresip: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    /// Settings from the file, then the flags given on the command line.
    func configuration() throws -> AgentConfiguration {
        var configuration = try config.map(AgentConfiguration.load) ?? AgentConfiguration()
        var settings = configuration.recording
        if let fps { settings.framesPerSecond = fps }
        if let bitrate { settings.bitrateKbps = bitrate }
        if let cpuUsed { settings.cpuUsed = cpuUsed }
        if let segmentLength { settings.segmentSeconds = try DurationText.parseSeconds(segmentLength) }
        if let keyframeInterval { settings.keyframeIntervalSeconds = try DurationText.parseSeconds(keyframeInterval) }
        if let monitor { settings.monitor = monitor }
        if let journalSync { settings.journalSyncSeconds = journalSync == "0" ? 0 : try DurationText.parseSeconds(journalSync) }
        if noCursor { settings.drawCursor = false }
        if forceXGetImage { settings.forceXGetImage = true }
        try settings.validate()
        configuration.recording = settings
        if let display { configuration.display = display }
        if let out { configuration.outputDirectory = out }
        if !recipients.isEmpty { configuration.recipientCertificates = recipients }
        if let agentId { configuration.agentId = agentId }
        if let nodePath {
            try NodePath.validate(nodePath)
            configuration.nodePath = nodePath
        }
        if let stateDirectory { configuration.stateDirectory = stateDirectory }
        if let baresip { configuration.softphone = .init(kind: .baresip, control: baresip) }
        if let spoolMaxMB { configuration.spool.maxBytes = Int64(spoolMaxMB) << 20 }
        if let spoolMinFreeMB { configuration.spool.minFreeBytes = Int64(spoolMinFreeMB) << 20 }
        return configuration
    }

    func run() async throws {
        let logger = try AgentLogging.makeLogger(level: logLevel)
        let seconds = try duration.map(DurationText.parseSeconds)
        if let seconds, seconds <= 0 {
            throw ValidationError("--duration must be longer than 0 s")
        }
        // An enrolled agent takes what its collector says now (storage account, recording keys).
        if let config {
            switch Enrolment.refresh(configurationPath: config) {
            case .updated: logger.notice("configuration updated from the collector", metadata: ["file": "\(config)"])
            case .kept(let reason):
                logger.warning(
                    "the collector could not be asked for the configuration; recording with the last one",
                    metadata: ["reason": "\(reason)"])
            case .unchanged, .notEnrolled: break
            }
        }
        let runtime: AgentRuntime
        do {
            runtime = try AgentRuntime(
                configuration: try configuration(), duration: seconds, followsCalls: followCalls, logger: logger)
        } catch let error as AgentRuntime.SetupError {
            throw ValidationError(error.description)
        }
        // Segments finished before a failure are on disk; list them before reporting the error.
        defer { printSummary(runtime.writtenFiles) }
        try await runtime.serviceGroup().run()
    }

    private func printSummary(_ paths: [String]) {
        guard !paths.isEmpty else { return }
        let sealed = paths[0].hasSuffix(".p7m")
        let pending = paths.filter { FileManager.default.fileExists(atPath: $0) }
        if sealed {
            print(
                "Sealed \(paths.count) segment(s); \(paths.count - pending.count) uploaded, \(pending.count) waiting in the spool:"
            )
            for path in pending { print("  \(path)") }
            print("Sealed segments open with the recording key (recorder-collector decrypt, or recorder-agent open).")
        } else {
            print("Wrote \(paths.count) segment(s):")
            for path in paths { print("  \(path)") }
            print("Play one with: ffplay \(paths[0])   (or open it in a web browser)")
        }
    }
}
