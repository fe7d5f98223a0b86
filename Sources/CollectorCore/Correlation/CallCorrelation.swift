import Foundation
import RecorderCore
import SQLKit

/// Which voice recordings and screen segments belong to a call, and how each was matched, read from
/// the catalog as it is now (so late arrivals count as soon as they are there, in any order):
///
/// 1. **interaction**: the recording names the call's interaction (voice: its integration's too;
///    screen: the agent's manifest lists it, from a workstation with a leg of the call).
/// 2. **sip-call-id**: a voice recording whose SIP Call-ID is one of the call's (a softphone call's
///    leg, or an event's `sip_call_id` attribute), unless it names a call of its own in the catalog.
/// 3. **agent-time**: a voice recording of no catalogued call, from the call's own phone system
///    (agent ids are only unique within one), whose agent had a leg of this call at that time (the call with the largest overlap wins, so one recording lands in one call); a screen
///    segment recorded for no call (record-always) at a workstation of the call, inside one of its legs.
///    Times from workstations are first put on the collector's clock with the offset measured then.
extension Collector {
    public func timeline(_ interactionId: String, integration: String? = nil, now: Date = Date()) async throws
        -> CallTimeline?
    {
        guard let inputs = try await timelineInputs(interactionId, integration: integration, now: now) else { return nil }
        return TimelineBuilder.build(inputs, now: now)
    }

    /// The inputs of every call of the view (a softphone transfer's calls are one view), merged.
    func timelineInputs(_ interactionId: String, integration: String?, now: Date) async throws -> TimelineInputs? {
        guard let call = try await calls.call(interactionId, integration: integration) else { return nil }
        let members = try await CallStitching(collector: self).chain(of: call)
        var inputs = TimelineInputs(call: call, members: members, voices: [], segments: [], clocks: [:])
        var voiceIds = Set<String>()
        var segmentIds = Set<String>()
        for member in members {
            let part = try await recordings(of: member.call, now: now)
            for voice in part.voices where voiceIds.insert(voice.record.id).inserted { inputs.voices.append(voice) }
            for segment in part.segments where segmentIds.insert("\(segment.record.agentId)/\(segment.record.sequence)").inserted {
                inputs.segments.append(segment)
            }
            inputs.clocks.merge(part.clocks) { kept, _ in kept }
        }
        return inputs
    }

    /// One call's voice and screen, each with how it was matched, and the clocks of the workstations.
    private func recordings(of call: CallRecord, now: Date) async throws -> (
        voices: [(record: VoiceRecord, match: CallTimeline.Match)],
        segments: [(record: SegmentRecord, match: CallTimeline.Match)], clocks: [String: [ClockOffsets.Measurement]]
    ) {
        let interactionId = call.interactionId
        let callClock = Integrations.workstationId(of: call.integration)
        let workstations = Set(call.legs.compactMap(\.workstation))
        let legStarts = call.legs.compactMap { $0.startedAt.flatMap(Timestamp.date) }
        let windowStart = (legStarts.min() ?? Timestamp.date(call.startedAt ?? "") ?? now).addingTimeInterval(-600)
        let windowEnd = (Timestamp.date(call.endedAt ?? "") ?? now).addingTimeInterval(600)

        var voices: [(record: VoiceRecord, match: CallTimeline.Match)] = try await voice.list(interactionId: interactionId)
            .filter { $0.integration == call.integration }.map { ($0, .init(method: "interaction", confidence: 1)) }
        var taken = Set(voices.map(\.record.id))

        let events = try await callEvents.events(interactionId: interactionId, limit: 2000).filter {
            $0.integration == call.integration
        }
        var sipIds = Set(events.compactMap { $0.event.attributes["sip_call_id"] })
        if callClock != nil { sipIds.formUnion(call.legs.map(\.legId)) }
        if !sipIds.isEmpty {
            let rows = try await catalog.sql.raw(
                "SELECT * FROM voice_recordings WHERE sip_call_id IN (\(binds: Array(sipIds).sorted())) ORDER BY started_at, id LIMIT 1000"
            ).all().map(VoiceRecordings.record)
            for record in rows where !taken.contains(record.id) {
                guard try await !hasCall(record.integration, record.interactionId) else { continue }
                voices.append((record, .init(method: "sip-call-id", confidence: 1)))
                taken.insert(record.id)
            }
        }

        // By agent and time: recordings of this call's agents whose own interaction is no catalogued call.
        let agents = Set(call.legs.compactMap(\.agent))
        if !agents.isEmpty {
            let rows = try await catalog.sql.raw(
                """
                SELECT * FROM voice_recordings WHERE integration = \(bind: call.integration)
                AND agent_id IN (\(binds: Array(agents).sorted()))
                AND started_at >= \(bind: Timestamp.string(windowStart)) AND started_at <= \(bind: Timestamp.string(windowEnd))
                ORDER BY started_at, id LIMIT 1000
                """
            ).all().map(VoiceRecordings.record)
            for record in rows where !taken.contains(record.id) {
                guard try await !hasCall(record.integration, record.interactionId),
                    let best = try await bestCall(for: record), best.call == call.interactionId,
                    best.integration == call.integration
                else { continue }
                voices.append((record, .init(method: "agent-time", confidence: best.share)))
                taken.insert(record.id)
            }
        }

        var segments: [(record: SegmentRecord, match: CallTimeline.Match)] = try await self.segments.list(
            .init(callId: interactionId, limit: 10_000)
        ).filter { workstations.isEmpty || workstations.contains($0.agentId) }.map {
            ($0, .init(method: "interaction", confidence: 1))
        }
        var clocks: [String: [ClockOffsets.Measurement]] = [:]
        for agent in workstations.union(segments.map(\.record.agentId)).union(voices.compactMap(\.record.clockOf)) {
            clocks[agent] = try await clockOffsets.history(agentId: agent, from: windowStart, to: windowEnd)
        }
        // Record-always screen: segments for no call at a workstation of the call, inside one of its legs.
        for workstation in workstations.sorted() {
            let loose = try await self.segments.list(
                .init(
                    agentId: workstation, from: Timestamp.string(windowStart.addingTimeInterval(-3600)),
                    to: Timestamp.string(windowEnd), limit: 10_000)
            ).filter { $0.manifest.callIds.isEmpty }
            for segment in loose {
                let share = Self.share(of: segment, inLegsOf: call, at: workstation, clocks: clocks[workstation] ?? [], callClock: callClock.map { clocks[$0] ?? [] })
                if share > 0 { segments.append((segment, .init(method: "agent-time", confidence: share))) }
            }
        }
        return (voices, segments, clocks)
    }

    private func hasCall(_ integration: String, _ interaction: String) async throws -> Bool {
        try await catalog.sql.raw(
            "SELECT 1 AS found FROM calls WHERE integration = \(bind: integration) AND interaction_id = \(bind: interaction)"
        ).first() != nil
    }

    /// The call whose legs of this recording's agent overlap the recording most (ties: the earlier leg,
    /// then the smaller id), and the share of the recording inside them.
    func bestCall(for record: VoiceRecord) async throws -> (integration: String, call: String, share: Double)? {
        guard let agent = record.agentId, let start = Timestamp.date(record.startedAt) else { return nil }
        let end = start.addingTimeInterval(Double(record.audio.durationMs) / 1000)
        let rows = try await catalog.sql.raw(
            """
            SELECT integration, interaction_id, started_at, ended_at FROM call_legs WHERE agent = \(bind: agent)
            AND integration = \(bind: record.integration)
            AND started_at <= \(bind: Timestamp.string(end))
            AND started_at >= \(bind: Timestamp.string(start.addingTimeInterval(-12 * 3600)))
            ORDER BY started_at, interaction_id LIMIT 200
            """
        ).all()
        var best: (integration: String, call: String, share: Double)?
        for row in rows {
            guard let legStart = Timestamp.date(try row.decode(column: "started_at", as: String.self)) else { continue }
            let legEnd = try row.decode(column: "ended_at", as: String?.self).flatMap(Timestamp.date) ?? end
            let overlap = min(end, legEnd).timeIntervalSince(max(start, legStart))
            let length = max(end.timeIntervalSince(start), 0.001)
            let share = (overlap / length * 1000).rounded() / 1000
            guard share > 0, share > (best?.share ?? 0) else { continue }
            best = (
                try row.decode(column: "integration", as: String.self),
                try row.decode(column: "interaction_id", as: String.self), min(share, 1)
            )
        }
        return best
    }

    /// How much of a segment lies inside the call's legs at `workstation`, both on the collector's clock.
    static func share(
        of segment: SegmentRecord, inLegsOf call: CallRecord, at workstation: String,
        clocks: [ClockOffsets.Measurement], callClock: [ClockOffsets.Measurement]?
    ) -> Double {
        func corrected(_ date: Date, _ history: [ClockOffsets.Measurement]?) -> Date {
            history.flatMap { ClockOffsets.correction(atWorkstationTime: date, history: $0) }?.collectorTime(of: date) ?? date
        }
        guard let first = Timestamp.date(segment.manifest.firstFrameTime) else { return 0 }
        let start = corrected(first, clocks)
        let end = start.addingTimeInterval(Double(segment.manifest.durationMs) / 1000)
        var inside: TimeInterval = 0
        for leg in call.legs where leg.workstation == workstation {
            guard let legStart = leg.startedAt.flatMap(Timestamp.date).map({ corrected($0, callClock) }) else { continue }
            let legEnd = leg.endedAt.flatMap(Timestamp.date).map { corrected($0, callClock) } ?? end
            inside += max(0, min(end, legEnd).timeIntervalSince(max(start, legStart)))
        }
        let length = max(end.timeIntervalSince(start), 0.001)
        return (min(inside / length, 1) * 1000).rounded() / 1000
    }
}
