import ArgumentParser
import Foundation
import Logging
import RecorderAgent
import RecorderCore
import ServiceLifecycle
import StorageClient

/// `recorder-agent record`: records a display into plain WebM segments (the debugging sink).
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

    @Option(help: "Record only this RandR monitor (see `recorder-agent monitors`).")
    var monitor: String?

    @Flag(name: .customLong("no-cursor"), help: "Do not draw the pointer into the frames.")
    var noCursor = false

    @Flag(name: .customLong("force-xgetimage"), help: "Capture with XGetImage even when MIT-SHM is available.")
    var forceXGetImage = false

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
        if let spoolMaxMB { configuration.spool.maxBytes = Int64(spoolMaxMB) << 20 }
        if let spoolMinFreeMB { configuration.spool.minFreeBytes = Int64(spoolMinFreeMB) << 20 }
        return configuration
    }

    func run() async throws {
        let logger = try AgentLogging.makeLogger(level: logLevel)
        let configuration = try configuration()
        let settings = configuration.recording
        guard let outputDirectory = configuration.outputDirectory else {
            throw ValidationError("no output directory: pass --out DIR or set output_directory in the configuration")
        }
        let seconds = try duration.map(DurationText.parseSeconds)
        if let seconds, seconds <= 0 {
            throw ValidationError("--duration must be longer than 0 s")
        }
        let sealingRecipients = try configuration.recipientCertificates.map { path in
            guard let pem = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("cannot read the recipient certificate \(path)")
            }
            do {
                return try SealingRecipient(certificatePEM: pem)
            } catch {
                throw ValidationError("recipient certificate \(path): \(error)")
            }
        }
        if sealingRecipients.isEmpty {
            logger.warning("no recipient certificate: segments are written unencrypted (debugging only)")
        }
        // Sealed segments get signed, chained manifests; plain debugging output does not.
        let stateDirectory = configuration.stateDirectory ?? AgentDefaults.stateDirectory()
        let chain =
            try sealingRecipients.isEmpty
            ? nil
            : ManifestChain(
                stateDirectory: stateDirectory, agentId: configuration.agentId ?? AgentDefaults.agentId(),
                nodePath: configuration.nodePath)
        let directory = try SegmentDirectory(
            path: outputDirectory, recipients: sealingRecipients, chain: chain, limits: configuration.spool)
        if let chain {
            let recovery = try chain.recover(spool: directory.url)
            if recovery != ManifestChain.Recovery() {
                logger.warning(
                    "recovered the spool after an unclean stop",
                    metadata: [
                        "temporary_files_removed": "\(recovery.removedTemporaryFiles)",
                        "manifests_adopted": "\(recovery.adoptedManifests)",
                        "segments_reattested": "\(recovery.reattestedSegments)",
                    ])
            }
        }
        try DurableFile.makeDirectory(URL(fileURLWithPath: stateDirectory))
        let status = AgentStatusFile(stateDirectory: stateDirectory, spoolDirectory: directory.url.path)
        let recorder = ScreenRecorder(displayName: configuration.display, settings: settings, logger: logger)
        let written = WrittenFiles()

        let recording = RecordingService(recorder: recorder, duration: seconds) { capture in
            logger.info(
                "recording",
                metadata: [
                    "display": "\(capture.display)", "area": "\(capture.area)", "method": "\(capture.method)",
                    "damage": "\(capture.damageTracking)", "cursor": "\(capture.cursor)",
                ])
        }
        let sink = SegmentSinkService(
            segments: recorder.segments,
            handle: { segment in
                switch try directory.write(segment) {
                case .stored(let url):
                    written.append(url.path)
                    status.stored()
                case .refused(let reason):
                    // Explicit policy (Agent/README.md): refuse new segments, keep the spooled ones, go on.
                    logger.error(
                        "segment refused, recording continues",
                        metadata: ["sequence": "\(segment.sequence)", "reason": "\(reason)"])
                    status.refused(reason)
                }
            },
            onFailure: { error in
                status.failed(error)
                logger.error("cannot store a segment; stopping the recording", metadata: ["error": "\(error)"])
                recorder.stop()
            })
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        // An enrolled agent reports to its collector: manifests after upload, and heartbeats.
        let collector = try CollectorLink.load(stateDirectory: stateDirectory)
        // Shutdown runs in reverse order: recorder, then the spool writer, then a last upload pass,
        // then the heartbeat that says "stopping".
        if let collector {
            services.append(
                .init(
                    service: HeartbeatService(link: collector, spool: directory.url, status: status, logger: logger)))
        }
        if let storage = configuration.storage, chain != nil {
            let uploader = SpoolUploader(
                spool: directory.url, client: WebDAVClient(target: storage), collector: collector, logger: logger)
            services.append(
                .init(
                    service: UploadService(uploader: uploader, logger: logger) { pass in
                        if let error = pass.stoppedBy { status.failed(error) }
                    }))
        } else if configuration.storage != nil {
            logger.warning("storage configured but no recipient certificate: plain segments are never uploaded")
        }
        services.append(
            .init(
                service: sink, successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup))
        services.append(
            .init(
                service: recording, successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup))
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        // Segments finished before a failure are on disk; list them before reporting the error.
        defer { printSummary(written.paths) }
        try await group.run()
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
