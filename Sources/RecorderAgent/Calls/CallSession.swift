import Foundation
import RecorderCore

/// One leg of a call as the recording knows it.
public typealias LegReference = CallLeg

/// What the recorder must do after an event or a timer: the call state machine's only output.
public enum RecordingCommand: Equatable, Sendable {
    /// Begin recording; the segments carry these legs.
    case start(legs: [LegReference])
    /// End the segment here (the next starts with a keyframe) and go on with these legs.
    case cut(legs: [LegReference])
    /// PCI: stop capturing at once; nothing of the paused interval may be captured.
    case pause(reason: String)
    /// Capture again; `automatic` when the pause outlived its timeout.
    case resume(reason: String, automatic: Bool)
    /// A leg went on or off hold (hold intervals go into the manifest; recording continues).
    case hold(leg: LegReference, held: Bool)
    /// Finish the segment in progress and stop capturing.
    case stop
}

/// The agent's call state machine: which legs it is on, whether recording is paused, and when it
/// stops after the last leg (post-roll for after-call work). A value with no clock and no I/O:
/// events and timer ticks go in, `RecordingCommand`s come out, so every rule is a unit test.
///
/// Feeds repeat and reorder themselves (Amazon documents its contact events as best-effort and
/// unordered), so: an event id seen before is ignored; an event for a leg older (by `occurredAt`)
/// than the last one applied to that leg is ignored; an end that arrives before its start is kept,
/// and the start that follows is ignored. Each ignored event says why (`Outcome.ignored`), for the log.
public struct CallSession: Sendable {
    public struct Settings: Sendable, Equatable {
        /// Recording goes on this long after the last leg ends (after-call work), unless `acw.ended`.
        public var postRollSeconds: Double = 30
        /// A PCI pause nobody resumes ends by itself after this long (and says so).
        public var autoResumeSeconds: Double = 600
        /// Event ids remembered for recognising repeats.
        public var rememberedEvents = 4096
        /// Which legs are recorded (queues), and whether the screen is recorded between calls too.
        public var rules = RecordingRules()
        /// A leg nothing was heard of for this long is taken as ended: feeds lose events (Amazon's are
        /// best effort), and a lost end must not keep a workstation recording for ever.
        public var legSilenceSeconds: Double = 4 * 3600

        public init() {}

        /// The node path's rules as the collector resolved them.
        public init(rules: RecordingRules) {
            self.rules = rules
            postRollSeconds = Double(rules.postRollSeconds)
            autoResumeSeconds = Double(rules.autoResumeSeconds)
        }
    }

    public enum Outcome: Equatable, Sendable {
        case applied([RecordingCommand])
        case ignored(String)
    }

    private struct Leg {
        var reference: LegReference
        var held = false
        var lastOccurred: Date
        /// Started by a program on this workstation, not by the collector: reconnects leave it alone.
        var local = false
        /// When the session last applied an event of it (this machine's clock).
        var lastSeen = Date.distantFuture
    }

    public private(set) var settings: Settings
    private var legs: [String: Leg] = [:]
    /// Legs the rules leave out (their queue), so their later events are recognised (the latest only).
    private var unrecorded = RecentKeys()
    /// Legs that ended, with when, so a late start or a repeat is recognised (the latest ones only).
    private var ended: [String: Date] = [:] {
        didSet {
            if ended.count > settings.rememberedEvents, let oldest = ended.min(by: { $0.value < $1.value }) {
                ended.removeValue(forKey: oldest.key)
            }
        }
    }
    private var seen = RecentKeys()
    /// Whether the recorder runs (it goes on through the post-roll).
    public private(set) var isRecording = false
    public private(set) var isPaused = false
    private var autoResumeAt: Date?
    private var stopAt: Date?
    /// The legs of the last segment boundary; kept through the post-roll.
    private var current: [LegReference] = []

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// The legs the recording belongs to now.
    public var activeLegs: [LegReference] { current }

    /// New rules (the collector's, refreshed while the agent runs). Queue rules apply to legs that
    /// start from now on; `recordAlways` turning on starts recording at once, turning off stops it
    /// unless a call is on.
    public mutating func update(_ settings: Settings, now: Date) -> [RecordingCommand] {
        let wasAlways = self.settings.rules.recordAlways
        self.settings = settings
        if settings.rules.recordAlways && !wasAlways { return begin(now: now) }
        if !settings.rules.recordAlways && wasAlways && legs.isEmpty && stopAt == nil { return stop() }
        return []
    }

    /// At the agent's start: with `recordAlways`, recording begins without a call.
    public mutating func begin(now: Date) -> [RecordingCommand] {
        guard settings.rules.recordAlways, !isRecording else { return [] }
        isRecording = true
        current = []
        return isPaused ? [.start(legs: []), .pause(reason: "paused before recording began")] : [.start(legs: [])]
    }

    public mutating func apply(_ event: CallEvent, now: Date, local: Bool = false) -> Outcome {
        guard seen.insert(event.eventId, keeping: settings.rememberedEvents) else {
            return .ignored("event \(event.eventId) was applied already")
        }
        let occurred = event.occurred
        let legId = event.legId ?? event.interactionId ?? ""
        if unrecorded.contains(Self.key(event.interactionId, legId)), event.type != .recordingPaused,
            event.type != .recordingResumed
        {
            return .ignored("leg \(legId) is not recorded (the node path's recording rules)")
        }
        legs[legId]?.lastSeen = now
        if let leg = legs[legId], occurred < leg.lastOccurred, event.type != .recordingPaused,
            event.type != .recordingResumed
        {
            return .ignored("\(event.type.rawValue) for leg \(legId) happened before the last event applied to it")
        }
        switch event.type {
        case .legStarted, .screenWorkStarted:
            return start(event, legId: legId, occurred: occurred, now: now, local: local)
        case .legHeld, .legResumed:
            guard var leg = legs[legId] else { return .ignored("\(event.type.rawValue) for leg \(legId), which is not active") }
            let held = event.type == .legHeld
            leg.lastOccurred = occurred
            guard leg.held != held else {
                legs[legId] = leg
                return .ignored("leg \(legId) is \(held ? "on hold" : "off hold") already")
            }
            leg.held = held
            legs[legId] = leg
            return .applied([.hold(leg: leg.reference, held: held)])
        case .legTransferred, .legConferenced:
            guard var leg = legs[legId] else { return .ignored("\(event.type.rawValue) for leg \(legId), which is not active") }
            leg.lastOccurred = occurred
            legs[legId] = leg
            // A boundary: what follows belongs to the call as transferred or conferenced.
            return .applied([.cut(legs: current)])
        case .consultStarted:
            guard legs[legId] != nil, let related = event.relatedLegId, let interaction = event.interactionId else {
                return .ignored("consult.started for leg \(legId), which is not active")
            }
            legs[related] = Leg(
                reference: LegReference(interactionId: interaction, legId: related), lastOccurred: occurred, lastSeen: now)
            current = sortedReferences()
            return .applied([.cut(legs: current)])
        case .consultEnded:
            guard let related = event.relatedLegId, legs.removeValue(forKey: related) != nil else {
                return .ignored("consult.ended for a consult that is not active")
            }
            ended[related] = occurred
            current = sortedReferences()
            return .applied([.cut(legs: current)])
        case .legEnded, .screenWorkStopped:
            guard legs.removeValue(forKey: legId) != nil else {
                // Ended before, whatever the clocks say (a reconnect closes legs on the agent's clock).
                if ended[legId] != nil { return .ignored("leg \(legId) ended already") }
                ended[legId] = occurred
                return .ignored("leg \(legId) ended before its start arrived; its start will be ignored")
            }
            ended[legId] = occurred
            if legs.isEmpty {
                // After-call work: keep recording the same legs until the post-roll ends.
                stopAt = now.addingTimeInterval(settings.postRollSeconds)
                return .applied([])
            }
            current = sortedReferences()
            return .applied([.cut(legs: current)])
        case .afterCallWorkEnded:
            guard legs.isEmpty, stopAt != nil, current.contains(where: { $0.legId == legId }) else {
                return .ignored("acw.ended for leg \(legId), which is not in after-call work")
            }
            return .applied(stop())
        case .recordingPaused:
            guard !isPaused else { return .ignored("recording is paused already") }
            isPaused = true
            autoResumeAt = now.addingTimeInterval(settings.autoResumeSeconds)
            return .applied(isRecording ? [.pause(reason: event.reason ?? "paused")] : [])
        case .recordingResumed:
            guard isPaused else { return .ignored("recording is not paused") }
            isPaused = false
            autoResumeAt = nil
            return .applied(isRecording ? [.resume(reason: event.reason ?? "resumed", automatic: false)] : [])
        }
    }

    /// After a reconnect: `active` are the legs the collector knows active for this workstation (their
    /// events were replayed just before). Every other leg the session holds ended while the agent was
    /// away: it is closed as if its end had arrived now (the post-roll follows as usual).
    public mutating func reconcile(active: [LegReference], now: Date) -> [RecordingCommand] {
        let gone = legs.filter { !$0.value.local && !active.contains($0.value.reference) }.map(\.key)
        guard !gone.isEmpty else { return [] }
        for id in gone {
            legs.removeValue(forKey: id)
            ended[id] = now
        }
        if legs.isEmpty {
            stopAt = now.addingTimeInterval(settings.postRollSeconds)
            return []
        }
        current = sortedReferences()
        return [.cut(legs: current)]
    }

    /// Timers: the end of the post-roll and a forgotten pause's timeout.
    public mutating func tick(now: Date) -> [RecordingCommand] {
        var commands: [RecordingCommand] = []
        let silent = legs.filter { now.timeIntervalSince($0.value.lastSeen) >= settings.legSilenceSeconds }.map(\.key)
        if !silent.isEmpty {
            for id in silent {
                legs.removeValue(forKey: id)
                ended[id] = now
            }
            if legs.isEmpty {
                commands += stop()
            } else {
                current = sortedReferences()
                commands.append(.cut(legs: current))
            }
        }
        if isPaused, let autoResumeAt, now >= autoResumeAt {
            isPaused = false
            self.autoResumeAt = nil
            if isRecording {
                commands.append(
                    .resume(
                        reason: "the pause lasted \(Int(settings.autoResumeSeconds)) s and was resumed automatically",
                        automatic: true))
            }
        }
        if let stopAt, now >= stopAt, legs.isEmpty { commands += stop() }
        return commands
    }

    /// When `tick` next has something to do, for the caller's timer.
    public var nextDeadline: Date? {
        [isPaused ? autoResumeAt : nil, stopAt].compactMap { $0 }.min()
    }

    private mutating func start(_ event: CallEvent, legId: String, occurred: Date, now: Date, local: Bool) -> Outcome {
        if let end = ended[legId], occurred <= end {
            return .ignored("leg \(legId) started after its end had arrived; not recorded")
        }
        guard legs[legId] == nil else { return .ignored("leg \(legId) is active already") }
        // Screen-only work (email, chat) has no queue rule; calls follow the node path's rules.
        if event.type == .legStarted, !settings.rules.records(queue: event.queue) {
            _ = unrecorded.insert(Self.key(event.interactionId, legId), keeping: settings.rememberedEvents)
            return .ignored(
                settings.rules.recordCalls
                    ? "leg \(legId) is in queue \(event.queue ?? "(none)"), which the recording rules leave out"
                    : "the recording rules record no calls")
        }
        let reference = LegReference(interactionId: event.interactionId ?? legId, legId: legId)
        legs[legId] = Leg(reference: reference, lastOccurred: occurred, local: local, lastSeen: now)
        stopAt = nil
        let wasRecording = isRecording
        isRecording = true
        current = sortedReferences()
        var commands: [RecordingCommand] = [wasRecording ? .cut(legs: current) : .start(legs: current)]
        if isPaused && !wasRecording { commands.append(.pause(reason: "paused before the call started")) }
        return .applied(commands)
    }

    private mutating func stop() -> [RecordingCommand] {
        stopAt = nil
        guard isRecording else { return [] }
        current = []
        // A PCI pause belongs to its call: the next call must not start muted (a customer who hangs up
        // mid-payment leaves no resume behind).
        let wasPaused = isPaused
        isPaused = false
        autoResumeAt = nil
        // Recording always: the call's segment ends, the recording goes on without legs.
        if settings.rules.recordAlways {
            return wasPaused ? [.cut(legs: []), .resume(reason: "the call ended", automatic: true)] : [.cut(legs: [])]
        }
        isRecording = false
        return [.stop]
    }

    /// A leg within its interaction (leg ids are unique per feed, but a test or a careless feed reuses them).
    private static func key(_ interaction: String?, _ leg: String) -> String { "\(interaction ?? "")\u{1F}\(leg)" }

    private func sortedReferences() -> [LegReference] { legs.values.map(\.reference).sorted() }
}

/// The latest keys seen, at most a given number (the oldest forgotten first).
private struct RecentKeys {
    private var keys: Set<String> = []
    private var order: [String] = []

    func contains(_ key: String) -> Bool { keys.contains(key) }

    /// False for a key seen before.
    mutating func insert(_ key: String, keeping limit: Int) -> Bool {
        guard keys.insert(key).inserted else { return false }
        order.append(key)
        if order.count > limit { keys.remove(order.removeFirst()) }
        return true
    }
}
