import Foundation
import RecorderCore

/// What a call's timeline is made of, as `CallCorrelation` found it in the catalog.
public struct TimelineInputs: Sendable {
    /// The call asked for.
    public var call: CallRecord
    /// Every call of the view in time order, `call` among them: one, or the calls a softphone transfer
    /// left (`CallStitching`).
    public var members: [Member]
    public var voices: [(record: VoiceRecord, match: CallTimeline.Match)]
    public var segments: [(record: SegmentRecord, match: CallTimeline.Match)]
    /// Clock measurements of every workstation involved, oldest first.
    public var clocks: [String: [ClockOffsets.Measurement]]

    public struct Member: Sendable {
        public var call: CallRecord
        /// The workstation whose clock the call's own times are on (its softphone's calls); nil for a
        /// phone system's, taken as the reference.
        public var clock: String?
        /// How it joined the call before it (`self` for the first).
        public var match: CallTimeline.Match
    }
}

/// Builds the timeline: a pure function of its inputs, so the same catalog gives the same timeline
/// whatever order its rows arrived in.
public enum TimelineBuilder {
    /// Gaps in a leg's screen shorter than this are the seams between segments, not missing screen.
    static let seamMs: Int64 = 1000

    public static func build(_ inputs: TimelineInputs, now: Date = Date()) -> CallTimeline {
        var unmeasured = Set<String>()
        /// A time on the collector's clock, with how far it may be off (nil: unknown) and the correction made.
        func onCollector(_ text: String?, clockOf agent: String?) -> (date: Date, uncertainty: Int64?, correction: Int64?)? {
            guard let text, let date = Timestamp.date(text) else { return nil }
            guard let agent else { return (date, 0, nil) }
            guard let correction = ClockOffsets.correction(atWorkstationTime: date, history: inputs.clocks[agent] ?? []) else {
                unmeasured.insert(agent)
                return (date, nil, nil)
            }
            return (correction.collectorTime(of: date), correction.uncertaintyMs, correction.offsetMs)
        }
        let call = inputs.call
        let members = inputs.members.isEmpty ? [TimelineInputs.Member(call: call, clock: nil, match: CallStitching.root)] : inputs.members
        /// Every leg of the view, with the clock its times are on.
        let allLegs = members.flatMap { member in member.call.legs.map { (leg: $0, clock: member.clock) } }
        func time(_ text: String?, _ clock: String?) -> Date? { onCollector(text, clockOf: clock)?.date }

        let legStarts = allLegs.compactMap { time($0.leg.startedAt, $0.clock) }
        let callStarts = legStarts + members.compactMap { time($0.call.startedAt, $0.clock) }
        // The view has ended when each of its calls has.
        let ends = members.map { time($0.call.endedAt, $0.clock) }
        let end = ends.contains(nil) ? nil : ends.compactMap { $0 }.max()
        let knownEnds = allLegs.compactMap { time($0.leg.endedAt, $0.clock) } + ends.compactMap { $0 }

        // A voice hours away from the call's own times is not its sound (intake refuses one for a known
        // call; this catches one that arrived before the call did). Decided before the start is, on the
        // earliest time the call's events give (a call known only by its end too): a far voice must not
        // move the start, or each earlier one would pass and stretch the call back.
        let farVoices = Self.farVoices(inputs.voices, anchor: (callStarts + knownEnds).min(), end: end, now: now) {
            onCollector($0.record.startedAt, clockOf: $0.record.clockOf)?.date
        }
        let mediaStarts =
            inputs.voices.filter { farVoices[$0.record.id] == nil }.compactMap {
                onCollector($0.record.startedAt, clockOf: $0.record.clockOf)?.date
            }
            + inputs.segments.compactMap { onCollector($0.record.manifest.firstFrameTime, clockOf: $0.record.agentId)?.date }
        let start = legStarts.min() ?? callStarts.min() ?? (mediaStarts + knownEnds).min() ?? now
        func ms(_ date: Date) -> Int64 { Int64((date.timeIntervalSince(start) * 1000).rounded()) }
        func callMs(_ text: String?, _ clock: String?) -> Int64? { time(text, clock).map(ms) }

        var legs: [CallTimeline.Leg] = []
        var bands: [CallTimeline.Band] = []
        for (index, member) in members.enumerated() {
            // A stitched call's first leg came from the previous call's last: a transfer, at its end.
            let previous = index > 0 ? members[index - 1] : nil
            let transferredFrom = previous?.call.legs.last
            for (position, leg) in member.call.legs.enumerated() {
                legs.append(
                    CallTimeline.Leg(
                        legId: leg.legId, interactionId: member.call.interactionId, kind: leg.kind, agent: leg.agent,
                        workstation: leg.workstation, fromMs: callMs(leg.startedAt, member.clock) ?? 0,
                        toMs: callMs(leg.endedAt, member.clock),
                        previousLegId: leg.previousLegId ?? (position == 0 ? transferredFrom?.legId : nil)))
            }
            if let previous, let from = transferredFrom, let to = member.call.legs.first {
                let at = callMs(from.endedAt, previous.clock) ?? 0
                bands.append(.init(kind: "transfer", legId: from.legId, fromMs: at, toMs: at, detail: to.legId))
            }
        }
        var participants: [CallTimeline.Participant] = []
        for (leg, _) in allLegs {
            if let index = participants.firstIndex(where: { $0.agent == leg.agent && $0.workstation == leg.workstation }) {
                participants[index].legs.append(leg.legId)
            } else {
                participants.append(.init(agent: leg.agent, workstation: leg.workstation, legs: [leg.legId]))
            }
        }

        var uncertainties: [Int64] = []
        var voice = inputs.voices.compactMap { item -> CallTimeline.Voice? in
            guard let at = onCollector(item.record.startedAt, clockOf: item.record.clockOf) else { return nil }
            let uncertainty = at.uncertainty.map { $0 + item.record.startUncertaintyMs }
            if let uncertainty { uncertainties.append(uncertainty) }
            return CallTimeline.Voice(
                id: item.record.id, legId: item.record.legId, offsetMs: ms(at.date), durationMs: item.record.audio.durationMs,
                codec: item.record.audio.codec.rawValue, sampleRate: item.record.audio.sampleRate,
                channels: item.record.channelLayout.map(\.rawValue), match: item.match,
                uncertaintyMs: uncertainty ?? item.record.startUncertaintyMs)
        }.sorted { ($0.offsetMs, $0.legId, $0.id) < ($1.offsetMs, $1.legId, $1.id) }

        let setAside = voice.compactMap { item in
            farVoices[item.id].map {
                CallTimeline.SetAside(
                    kind: "voice", id: item.id,
                    reason: "starts \($0 / 60_000) min from the call's first known time, more than an hour outside the call; "
                        + "check the phone system's clock")
            }
        }
        voice.removeAll { farVoices[$0.id] != nil }

        let screen = inputs.segments.compactMap { item -> CallTimeline.Screen? in
            let manifest = item.record.manifest
            guard let at = onCollector(manifest.firstFrameTime, clockOf: manifest.agentId) else { return nil }
            if let uncertainty = at.uncertainty { uncertainties.append(uncertainty) }
            return CallTimeline.Screen(
                agentId: manifest.agentId, monitor: manifest.monitor ?? "screen", sequence: manifest.sequence,
                offsetMs: ms(at.date),
                durationMs: Int64(manifest.durationMs), width: manifest.width, height: manifest.height,
                legs: (manifest.legs ?? []).map(\.legId), match: item.match, clockCorrectionMs: at.correction,
                uncertaintyMs: at.uncertainty)
        }.sorted { ($0.offsetMs, $0.agentId, $0.sequence) < ($1.offsetMs, $1.agentId, $1.sequence) }

        var pausesByLeg: [String: [(Int64, Int64)]] = [:]
        for (leg, clock) in allLegs {
            func callMs(_ text: String?) -> Int64? { time(text, clock).map(ms) }
            for hold in leg.holds {
                bands.append(.init(kind: "hold", legId: leg.legId, fromMs: callMs(hold.from) ?? 0, toMs: callMs(hold.to)))
            }
            for pause in leg.pauses {
                let from = callMs(pause.from) ?? 0
                let to = callMs(pause.to)
                bands.append(.init(kind: "pause", legId: leg.legId, fromMs: from, toMs: to, detail: pause.reason))
                pausesByLeg[leg.legId, default: []].append((from, to ?? Int64.max))
            }
            for relation in leg.relatedLegs {
                let at = callMs(relation.at) ?? 0
                let consultEnd =
                    relation.kind == "consult"
                    ? allLegs.first { $0.leg.legId == relation.legId }.flatMap { time($0.leg.endedAt, $0.clock).map(ms) } : at
                bands.append(
                    .init(kind: relation.kind, legId: leg.legId, fromMs: at, toMs: consultEnd, detail: relation.legId))
            }
        }
        // Pauses the capture itself records (a pause sent to the workstation only) that no event shows.
        let eventPauses = pausesByLeg.values.flatMap { $0 }
        for item in inputs.segments {
            for gap in item.record.manifest.pauseGaps {
                guard let from = onCollector(gap.from, clockOf: item.record.agentId).map({ ms($0.date) }),
                    let to = onCollector(gap.to, clockOf: item.record.agentId).map({ ms($0.date) })
                else { continue }
                if !eventPauses.contains(where: { $0.0 < to && from < $0.1 }) {
                    bands.append(.init(kind: "pause", legId: nil, fromMs: from, toMs: to, detail: gap.reason))
                }
            }
        }
        // Where a leg was taken at a workstation and no screen covers it (and no pause explains it).
        let endMs = end.map(ms) ?? voice.map { $0.offsetMs + $0.durationMs }.max() ?? ms(now)
        for leg in legs {
            guard let workstation = leg.workstation else { continue }
            let legEnd = leg.toMs ?? endMs
            var covered = screen.filter { $0.agentId == workstation }.map { ($0.offsetMs, $0.offsetMs + $0.durationMs) }
            covered += bands.filter { $0.kind == "pause" && ($0.legId == leg.legId || $0.legId == nil) }.map {
                ($0.fromMs, $0.toMs ?? Int64.max)
            }
            for gap in uncovered(from: leg.fromMs, to: legEnd, by: covered) where gap.1 - gap.0 >= seamMs {
                bands.append(.init(kind: "no_screen", legId: leg.legId, fromMs: gap.0, toMs: gap.1, detail: workstation))
            }
        }
        bands.sort { ($0.fromMs, $0.kind, $0.legId ?? "") < ($1.fromMs, $1.kind, $1.legId ?? "") }

        let maxUncertainty = uncertainties.max()
        return CallTimeline(
            interactionId: call.interactionId, integration: call.integration,
            calls: members.map { .init(integration: $0.call.integration, interactionId: $0.call.interactionId, match: $0.match) },
            startedAt: Timestamp.string(start),
            endedAt: end.map(Timestamp.string), durationMs: max(0, endMs), legs: legs, participants: participants,
            voice: voice, screen: screen, bands: bands,
            sync: .init(
                maxUncertaintyMs: unmeasured.isEmpty ? (maxUncertainty ?? 0) : nil, unmeasured: unmeasured.sorted(),
                withinLimit: unmeasured.isEmpty && (maxUncertainty ?? 0) <= 40),
            setAside: setAside)
    }

    /// How far outside its call a voice may lie, and how long an open call counts, for the timeline
    /// and for intake (which refuses one for a known call) alike.
    static let farVoiceMs: Int64 = 3600 * 1000
    static let farVoiceOpenCallMs: Int64 = 12 * 3600 * 1000

    /// Where a call ends for that rule, in ms from its start: its end, or, open, now but at most
    /// half a day in (none runs for days, and a lost end event must not widen it without bound).
    static func voiceCallEnd(endMs: Int64?, nowMs: Int64) -> Int64 { endMs ?? min(nowMs, farVoiceOpenCallMs) }

    /// The voices lying far outside the call (`voiceLiesOutside`), by id, each with its offset in ms from
    /// `anchor`, the call's earliest known time; none when the call has no time of its own yet.
    static func farVoices(
        _ voices: [(record: VoiceRecord, match: CallTimeline.Match)], anchor: Date?, end: Date?, now: Date,
        startOf: ((record: VoiceRecord, match: CallTimeline.Match)) -> Date?
    ) -> [String: Int64] {
        guard let anchor else { return [:] }
        func ms(_ date: Date) -> Int64 { Int64((date.timeIntervalSince(anchor) * 1000).rounded()) }
        let callEndMs = voiceCallEnd(endMs: end.map(ms), nowMs: ms(now))
        var far: [String: Int64] = [:]
        for item in voices {
            guard let start = startOf(item) else { continue }
            if voiceLiesOutside(offsetMs: ms(start), durationMs: item.record.audio.durationMs, callEndMs: callEndMs) {
                far[item.record.id] = ms(start)
            }
        }
        return far
    }

    /// Whether a voice `offsetMs` from the call's start, `durationMs` long, lies more than
    /// `farVoiceMs` outside [0, `callEndMs`].
    static func voiceLiesOutside(offsetMs: Int64, durationMs: Int64, callEndMs: Int64) -> Bool {
        offsetMs + durationMs < -farVoiceMs || offsetMs > callEndMs + farVoiceMs
    }

    /// The parts of [from, to) that no interval of `covered` reaches.
    static func uncovered(from: Int64, to: Int64, by covered: [(Int64, Int64)]) -> [(Int64, Int64)] {
        var gaps: [(Int64, Int64)] = []
        var cursor = from
        for (start, end) in covered.sorted(by: { $0.0 < $1.0 }) where end > cursor {
            if start > cursor { gaps.append((cursor, min(start, to))) }
            cursor = max(cursor, end)
            if cursor >= to { break }
        }
        if cursor < to { gaps.append((cursor, to)) }
        return gaps.filter { $0.0 < $0.1 }
    }
}
