import Foundation
import Logging
import RecorderCore
import ServiceLifecycle
import StorageClient
import Synchronization
import UnixSignals

/// The agent's composition root: from a configuration to the running services of one recording —
/// the recorder, the spool writer, the uploader and the heartbeat — in a `ServiceGroup` whose order
/// is stated here once. The CLI only parses flags and runs it; tests build it without a process.
///
/// A `ServiceGroup` starts services in array order and shuts them down in reverse, so the order
/// below (`Role.allCases`) means: on SIGTERM the recorder stops first (finishing its segment), then
/// the spool writer stores what the recorder delivered, then the uploader makes its last pass, and
/// the heartbeat saying "stopping" goes last.
public struct AgentRuntime: Sendable {
    /// Each service's part, in start order (shutdown runs backwards).
    public enum Role: String, Sendable, CaseIterable {
        case heartbeat, upload, spoolWriter = "spool-writer", recorder
        /// Instead of the spool writer and the recorder: recordings started and stopped by calls.
        case callRecording = "call-recording"
    }

    /// Why the runtime cannot be built from this configuration: what is wrong and how to fix it.
    public struct SetupError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public let configuration: AgentConfiguration
    public let spool: SegmentDirectory
    public let status: AgentStatusFile
    public let recorder: ScreenRecorder
    /// How sealed recordings journal their segment in progress (nil: plain output, or turned off).
    public let journaling: SegmentJournaling?
    /// The collector this agent is enrolled with, if any.
    public let collector: CollectorLink?
    /// Every segment file written during the run, in order (for the command's summary).
    public var writtenFiles: [String] { written.paths }
    private let written = WrittenFiles()
    private let duration: Double?
    private let logger: Logger
    /// Recording follows the calls the collector routes to this workstation (`recorder-agent serve`).
    public let followsCalls: Bool
    /// The softphone whose own call events the agent follows too.
    private let softphone: BaresipControl?

    /// `duration`: stop after this many seconds (nil: until shutdown). `followsCalls`: record calls
    /// (as the collector delivers their events) instead of recording from start to stop.
    public init(configuration: AgentConfiguration, duration: Double?, followsCalls: Bool = false, logger: Logger) throws {
        self.followsCalls = followsCalls
        guard let outputDirectory = configuration.outputDirectory else {
            throw SetupError(
                description: "no output directory: pass --out DIR or set output_directory in the configuration")
        }
        let recipients = try configuration.recipientCertificates.map { path in
            guard let pem = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw SetupError(description: "cannot read the recipient certificate \(path)")
            }
            do {
                return try SealingRecipient(certificatePEM: pem)
            } catch {
                throw SetupError(description: "recipient certificate \(path): \(error)")
            }
        }
        if recipients.isEmpty {
            logger.warning("no recipient certificate: segments are written unencrypted (debugging only)")
        }
        // Sealed segments get signed, chained manifests; plain debugging output does not.
        let stateDirectory = configuration.stateDirectory ?? AgentDefaults.stateDirectory()
        let chain =
            try recipients.isEmpty
            ? nil
            : ManifestChain(
                stateDirectory: stateDirectory, agentId: configuration.agentId ?? AgentDefaults.agentId(),
                nodePath: configuration.nodePath)
        spool = try SegmentDirectory(
            path: outputDirectory, recipients: recipients, chain: chain, limits: configuration.spool)
        let journalDirectory = SegmentJournaling.directory(stateDirectory: stateDirectory)
        if let chain {
            var recovery = try chain.recoverHead(spool: spool.url)
            let journals = try JournalRecovery(directory: journalDirectory, spool: spool, logger: logger).run()
            recovery.reattestedSegments = try chain.reattestOrphans(spool: spool.url)
            if journals != JournalRecovery.Report() {
                logger.warning(
                    "recovered the segments in progress at an unclean stop",
                    metadata: [
                        "recovered": "\(journals.recovered)", "already_stored": "\(journals.alreadyStored)",
                        "empty": "\(journals.empty)", "set_aside": "\(journals.setAside)", "postponed": "\(journals.postponed)",
                    ])
            }
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
        status = AgentStatusFile(stateDirectory: stateDirectory, spoolDirectory: spool.url.path)
        // The segment in progress is journaled only when sealed: a journal of plaintext would put the screen on disk.
        journaling =
            recipients.isEmpty || configuration.recording.journalSyncSeconds == 0
            ? nil
            : SegmentJournaling(
                recipients: recipients, directory: journalDirectory, syncSeconds: configuration.recording.journalSyncSeconds)
        recorder = ScreenRecorder(
            displayName: configuration.display, settings: configuration.recording, journaling: journaling, logger: logger)
        collector = try CollectorLink.load(stateDirectory: stateDirectory)
        if followsCalls, collector == nil || recipients.isEmpty {
            throw SetupError(
                description:
                    "following calls needs an enrolled agent (recorder-agent enroll) whose configuration names the recording keys")
        }
        do {
            // A recording for a fixed time (no --follow-calls) records whatever happens: no softphone.
            softphone = try configuration.softphone.flatMap {
                followsCalls ? try BaresipControl(address: $0.control, logger: logger) : nil
            }
        } catch {
            throw SetupError(description: "\(error)")
        }
        if configuration.storage != nil, chain == nil {
            logger.warning("storage configured but no recipient certificate: plain segments are never uploaded")
        }
        self.configuration = configuration
        self.duration = duration
        self.logger = logger
    }

    /// The services this configuration runs, in start order: no heartbeat without a collector, no
    /// uploader without storage and sealing.
    public var roles: [Role] {
        Role.allCases.filter { role in
            switch role {
            case .heartbeat: collector != nil
            case .upload: configuration.storage != nil && !configuration.recipientCertificates.isEmpty
            case .spoolWriter, .recorder: !followsCalls
            case .callRecording: followsCalls
            }
        }
    }

    /// The group to run; `signals` start its graceful shutdown (the CLI passes SIGTERM and SIGINT).
    public func serviceGroup(signals: [UnixSignal] = [.sigterm, .sigint]) -> ServiceGroup {
        let services = roles.map(service)
        return ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: signals, logger: logger))
    }

    private func service(_ role: Role) -> ServiceGroupConfiguration.ServiceConfiguration {
        let (status, logger, recorder, spool, written) = (self.status, self.logger, self.recorder, self.spool, self.written)
        switch role {
        case .heartbeat:
            return .init(service: HeartbeatService(link: collector!, spool: spool.url, status: status, logger: logger))
        case .upload:
            let uploader = SpoolUploader(
                spool: spool.url, client: WebDAVClient(target: configuration.storage!), collector: collector,
                chain: spool.chain, logger: logger)
            return .init(
                service: UploadService(uploader: uploader, logger: logger) { pass in
                    if let error = pass.stoppedBy { status.failed(error) }
                })
        case .spoolWriter:
            let sink = SegmentSinkService(
                segments: recorder.segments,
                handle: { segment in try Self.store(segment, in: spool, status: status, written: written, logger: logger) },
                onFailure: { error in
                    status.failed(error)
                    logger.error("cannot store a segment; stopping the recording", metadata: ["error": "\(error)"])
                    recorder.stop()
                })
            return .init(
                service: sink, successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup)
        case .callRecording:
            let stateDirectory = configuration.stateDirectory ?? AgentDefaults.stateDirectory()
            let remote = CallEventChannel(link: collector!, stateDirectory: stateDirectory, logger: logger).inputs()
            // Programs on this workstation (a softphone) reach the state machine directly; without the
            // socket the agent still follows the collector's calls.
            var local: [AsyncStream<CallInput>] = []
            do {
                local.append(try LocalEventSocket(stateDirectory: stateDirectory, logger: logger).inputs())
            } catch {
                logger.warning("no local call events", metadata: ["error": "\(error)"])
            }
            if let softphone { local.append(softphone.inputs()) }
            // The workstation's own calls go to the collector's catalog too.
            let report = LocalEventReport(link: collector!, stateDirectory: stateDirectory, logger: logger)
            report.start()
            let events = Self.merged([remote] + local.map(report.reporting))
            return .init(
                service: CallRecordingService(
                    display: configuration.display, settings: configuration.recording, journaling: journaling, events: events,
                    store: { segment in
                        do {
                            try Self.store(segment, in: spool, status: status, written: written, logger: logger)
                        } catch {
                            status.failed(error)
                            logger.error("cannot store a segment", metadata: ["error": "\(error)"])
                        }
                    }, logger: logger),
                successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)
        case .recorder:
            let recording = RecordingService(recorder: recorder, duration: duration) { capture in
                // Tests and scripts wait for this line: capture has started.
                logger.info(
                    "recording",
                    metadata: [
                        "display": "\(capture.display)", "area": "\(capture.area)", "method": "\(capture.method)",
                        "damage": "\(capture.damageTracking)", "cursor": "\(capture.cursor)",
                    ])
            }
            return .init(
                service: recording, successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup)
        }
    }
}

extension AgentRuntime {
    /// Writes a segment into the spool and records the outcome; a write that fails throws (the
    /// caller decides whether the recording goes on).
    fileprivate static func store(
        _ segment: RecordedSegment, in spool: SegmentDirectory, status: AgentStatusFile, written: WrittenFiles,
        logger: Logger
    ) throws {
        switch try spool.write(segment) {
        case .stored(let url):
            written.append(url.path)
            status.stored()
        case .refused(let reason):
            // Explicit policy (Agent/README.md): refuse new segments, keep the spooled ones, go on. The
            // refused segment's journal goes too, or the next start would put it back past the limit.
            if case .sealed(_, let journal?) = segment.content { try? DurableFile.remove(journal) }
            logger.error(
                "segment refused, recording continues",
                metadata: ["sequence": "\(segment.sequence)", "reason": "\(reason)"])
            status.refused(reason)
        }
    }
}

/// Paths of the segments written during a run, shared with the spool writer's callback.
final class WrittenFiles: Sendable {
    private let storage = Mutex<[String]>([])

    func append(_ path: String) {
        storage.withLock { $0.append(path) }
    }

    var paths: [String] { storage.withLock { $0 } }
}

extension AgentRuntime {
    /// One stream of call inputs from the collector's channel, the local socket and a softphone, in
    /// arrival order.
    static func merged(_ streams: [AsyncStream<CallInput>]) -> AsyncStream<CallInput> {
        guard streams.count > 1 else { return streams[0] }
        return AsyncStream { continuation in
            let tasks = streams.map { stream in
                Task {
                    for await input in stream { continuation.yield(input) }
                }
            }
            let ending = Task {
                for task in tasks { await task.value }
                continuation.finish()
            }
            continuation.onTermination = { _ in
                for task in tasks { task.cancel() }
                ending.cancel()
            }
        }
    }
}
