import CMemory
import Foundation
import Logging
import RecorderCore
import ServiceLifecycle
import Synchronization

/// The long-lived agent's recording: waits for calls at no capture cost, and lets `CallSession` decide
/// — a recorder per recording (started on a leg, stopped after the post-roll), cut at call boundaries,
/// paused for PCI. Every segment goes to `store` (the spool writer). Events arrive from `events`
/// (the collector's deliveries, a softphone, the local API); a bad or surprising event is logged and
/// never stops a recording in progress.
public struct CallRecordingService: Service {
    let display: String?
    let settings: RecordingSettings
    let journaling: SegmentJournaling?
    let sessionSettings: CallSession.Settings
    let events: AsyncStream<CallInput>
    let store: @Sendable (RecordedSegment) async -> Void
    let logger: Logger

    public init(
        display: String?, settings: RecordingSettings, journaling: SegmentJournaling? = nil,
        sessionSettings: CallSession.Settings = .init(), events: AsyncStream<CallInput>,
        store: @escaping @Sendable (RecordedSegment) async -> Void, logger: Logger
    ) {
        self.display = display
        self.settings = settings
        self.journaling = journaling
        self.sessionSettings = sessionSettings
        self.events = events
        self.store = store
        self.logger = logger
    }

    private enum Input: Sendable {
        case call(CallInput)
        case tick
    }

    public func run() async throws {
        // One recording at a time, each on a fresh thread: without a cap every thread may get a malloc
        // arena of its own, whose freed pages stay (measured: 40 → 185 MB over 80 calls; 113 MB with 2).
        _ = cmemory_limit_arenas(2)
        let (inputs, feed) = AsyncStream<Input>.makeStream()
        // Events and timer ticks go through one stream, so the session sees them one at a time.
        let forwarding = Task {
            for await input in events { feed.yield(.call(input)) }
            feed.finish()
        }
        let ticking = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                feed.yield(.tick)
            }
        }
        var session = CallSession(settings: sessionSettings)
        var recording: Recording?
        var settings = self.settings
        var retryAt = Date.distantPast
        await withGracefulShutdownHandler {
            for await input in inputs {
                let commands: [RecordingCommand]
                switch input {
                case .call(.rules(let rules)):
                    // fps and bitrate apply from the next recording; the rest at once.
                    if let fps = rules.framesPerSecond { settings.framesPerSecond = Double(fps) }
                    if let bitrate = rules.bitrateKbps { settings.bitrateKbps = bitrate }
                    if rules.framesPerSecond == nil { settings.framesPerSecond = self.settings.framesPerSecond }
                    if rules.bitrateKbps == nil { settings.bitrateKbps = self.settings.bitrateKbps }
                    logger.info(
                        "recording rules",
                        metadata: [
                            "record_calls": "\(rules.recordCalls)", "record_always": "\(rules.recordAlways)",
                            "post_roll_seconds": "\(rules.postRollSeconds)",
                        ])
                    commands = session.update(CallSession.Settings(rules: rules), now: Date())
                case .call(.activeLegs(let active)):
                    let ended = session.activeLegs.filter { !active.contains($0) }
                    commands = session.reconcile(active: active, now: Date())
                    if !ended.isEmpty {
                        logger.notice(
                            "calls ended while the agent was away", metadata: ["legs": "\(ended.map(\.legId))"])
                    }
                case .call(.event(let event)), .call(.local(let event)):
                    let local = if case .call(.local) = input { true } else { false }
                    switch session.apply(event, now: Date(), local: local) {
                    case .applied(let applied):
                        logger.info(
                            "call event", metadata: ["type": "\(event.type.rawValue)", "event": "\(event.eventId)"])
                        let late = Date().timeIntervalSince(event.occurred)
                        if applied.contains(where: { if case .start = $0 { true } else { false } }), late > 2 {
                            // Started while the agent was away (or the feed was slow): recorded from now.
                            logger.notice(
                                "call picked up late",
                                metadata: ["leg": "\(event.legId ?? "")", "seconds_late": "\(Int(late))"])
                        }
                        commands = applied
                    case .ignored(let why):
                        logger.notice("call event ignored", metadata: ["event": "\(event.eventId)", "why": "\(why)"])
                        commands = []
                    }
                case .tick:
                    commands = session.tick(now: Date())
                }
                for command in commands { recording = await execute(command, recording, settings: settings) }
                // The session records but no recorder runs: it could not start (the display was not up
                // yet at boot) or it died (the X server went away). Try again every few seconds, so a
                // call or a record-always workstation is not left unrecorded until a restart.
                if session.isRecording, recording.map({ $0.recorder.isFinished }) ?? true, Date() >= retryAt {
                    if let dead = recording {
                        await dead.finish()
                        logger.warning("the recorder stopped by itself; starting it again")
                    }
                    recording = await execute(.start(legs: session.activeLegs), nil, settings: settings)
                    if let recording, session.isPaused {
                        await recording.recorder.perform(.pause(reason: "paused before the recorder restarted"))
                    }
                    retryAt = Date().addingTimeInterval(recording == nil ? Self.retrySeconds : 0)
                }
            }
        } onGracefulShutdown: {
            feed.finish()
        }
        forwarding.cancel()
        ticking.cancel()
        // A stop in the middle of a call finishes its segment: nothing recorded is dropped.
        if let recording { await recording.finish() }
    }

    /// One recorder and the task that stores its segments.
    private struct Recording {
        let recorder: ScreenRecorder
        let storing: Task<Void, Never>

        func finish() async {
            recorder.stop()
            _ = try? await recorder.finished()
            await storing.value
            // The recording's frames, encoder and segment buffers are freed; give the pages back, so a
            // service waiting for the next call is as small as it was before this one.
            _ = cmemory_trim()
        }
    }

    private func execute(_ command: RecordingCommand, _ recording: Recording?, settings: RecordingSettings) async
        -> Recording?
    {
        switch command {
        case .start(let legs):
            if let recording { await recording.finish() }
            let recorder = ScreenRecorder(
                displayName: display, settings: settings, journaling: journaling, logger: logger, legs: legs)
            let store = self.store
            let storing = Task { for await segment in recorder.segments { await store(segment) } }
            do {
                let capture = try await recorder.start(duration: nil)
                logger.info(
                    "recording", metadata: ["calls": "\(Self.calls(legs))", "method": "\(capture.method)"])
                return Recording(recorder: recorder, storing: storing)
            } catch {
                logger.error("cannot record the call", metadata: ["error": "\(error)"])
                await storing.value
                return nil
            }
        case .cut(let legs):
            await recording?.recorder.perform(.cut(legs: legs))
            return recording
        case .pause(let reason):
            await recording?.recorder.perform(.pause(reason: reason))
            return recording
        case .resume:
            await recording?.recorder.perform(.resume)
            return recording
        case .hold(let leg, let held):
            logger.info("hold", metadata: ["leg": "\(leg.legId)", "held": "\(held)"])
            await recording?.recorder.perform(.hold(leg: leg, held: held))
            return recording
        case .stop:
            await recording?.finish()
            logger.info("recording stopped: no call left")
            return nil
        }
    }

    /// Seconds between attempts to start a recorder that could not start.
    static let retrySeconds: TimeInterval = 5

    /// The interactions a segment belongs to (its manifest's `callIds`), each once.
    static func calls(_ legs: [LegReference]) -> [String] {
        var seen: [String] = []
        for leg in legs where !seen.contains(leg.interactionId) { seen.append(leg.interactionId) }
        return seen
    }
}
