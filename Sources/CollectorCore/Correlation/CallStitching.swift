import Foundation
import RecorderCore

/// A softphone's blind transfer leaves two calls in the catalog: the transferring agent's, which ends
/// "transferred", and the new one the customer's phone places to the other agent (a REFER makes a new
/// Call-ID, and neither workstation sees the other's). Nothing in SIP ties them together where the
/// agents can see it, so they are joined the way a person would: the second call starts at another
/// workstation within `window` after the first ended by a transfer, with the same remote party, both
/// times on the collector's clock. Each join must be each call's best (the closest in time) from both
/// ends, so the view is the same whichever of its calls is opened.
///
/// Calls from a phone system are never joined this way: their feed says which legs belong together.
struct CallStitching {
    let collector: Collector
    /// The latest the next call may start after the transferring call ended, and how much earlier it may
    /// seem to (two workstation clocks, each corrected within its uncertainty).
    static let window: TimeInterval = 60
    static let lead: TimeInterval = 5
    /// How wrong an uncorrected workstation clock may be for its calls to still be found as candidates.
    static let clockSlack: TimeInterval = 3600
    /// Calls in one chain at most (a customer passed around more than this is shown in parts).
    static let maxCalls = 8

    typealias Member = TimelineInputs.Member

    /// The calls `call` is stitched to, in time order, itself included. The first is matched `self`; each
    /// other one says how it joined the call before it.
    func chain(of call: CallRecord) async throws -> [Member] {
        var members = [Member(call: call, clock: Integrations.workstationId(of: call.integration), match: Self.root)]
        guard members[0].clock != nil else { return members }
        var seen: Set<String> = [Self.key(call)]
        while members.count < Self.maxCalls, let earlier = try await joined(before: members[0].call),
            seen.insert(Self.key(earlier.call)).inserted
        {
            members[0].match = earlier.match
            members.insert(Member(call: earlier.call, clock: earlier.clock, match: Self.root), at: 0)
        }
        while members.count < Self.maxCalls, let later = try await joined(after: members[members.count - 1].call),
            seen.insert(Self.key(later.call)).inserted
        {
            members.append(later)
        }
        return members
    }

    static let root = CallTimeline.Match(method: "self", confidence: 1)

    /// The call the customer was transferred to from `call`, if that call's closest predecessor is `call`.
    func joined(after call: CallRecord) async throws -> Member? {
        guard let later = try await closest(after: call), let back = try await closest(before: later.call),
            Self.key(back.call) == Self.key(call)
        else { return nil }
        return later
    }

    /// The call transferred into `call`, if that call's closest successor is `call`; its `match` says how
    /// `call` joined it.
    func joined(before call: CallRecord) async throws -> Member? {
        guard let earlier = try await closest(before: call), let forward = try await closest(after: earlier.call),
            Self.key(forward.call) == Self.key(call)
        else { return nil }
        return earlier
    }

    /// The call with the same remote party that started closest after `call` ended by a transfer.
    private func closest(after call: CallRecord) async throws -> Member? {
        guard let ended = try await transferEnd(of: call), let party = Self.remoteParty(call) else { return nil }
        var best: (member: Member, gap: TimeInterval)?
        for candidate in try await candidates(party: party, excluding: call, column: "started_at", around: ended) {
            guard let started = try await start(of: candidate) else { continue }
            let gap = started.timeIntervalSince(ended)
            guard gap >= -Self.lead, gap <= Self.window, abs(gap) < abs(best?.gap ?? .infinity) else { continue }
            best = (Member(call: candidate, clock: Integrations.workstationId(of: candidate.integration), match: Self.match(gap)), gap)
        }
        return best?.member
    }

    /// The call with the same remote party that ended by a transfer closest before `call` started.
    private func closest(before call: CallRecord) async throws -> Member? {
        guard let started = try await start(of: call), let party = Self.remoteParty(call) else { return nil }
        var best: (member: Member, gap: TimeInterval)?
        for candidate in try await candidates(party: party, excluding: call, column: "ended_at", around: started) {
            guard let ended = try await transferEnd(of: candidate) else { continue }
            let gap = started.timeIntervalSince(ended)
            guard gap >= -Self.lead, gap <= Self.window, abs(gap) < abs(best?.gap ?? .infinity) else { continue }
            best = (Member(call: candidate, clock: Integrations.workstationId(of: candidate.integration), match: Self.match(gap)), gap)
        }
        return best?.member
    }

    private func candidates(party: String, excluding call: CallRecord, column: String, around time: Date) async throws
        -> [CallRecord]
    {
        try await collector.calls.workstationCalls(
            party: party, excluding: call.integration, column: column, from: time.addingTimeInterval(-Self.clockSlack),
            to: time.addingTimeInterval(Self.clockSlack)
        ).filter { Self.remoteParty($0) == party }
    }

    /// Joined within a second: certain enough; later, less so (down to one half at the window's end).
    static func match(_ gap: TimeInterval) -> CallTimeline.Match {
        let confidence = gap <= 1 ? 1 : max(0.5, 1 - (gap - 1) / (window * 2))
        return .init(method: "transfer-time", confidence: (confidence * 1000).rounded() / 1000)
    }

    /// The other side of a softphone's call: who called, or whom the agent called.
    static func remoteParty(_ call: CallRecord) -> String? {
        let party = call.direction == .outbound ? call.dnis : call.ani
        return party?.isEmpty == false ? party : nil
    }

    /// When the call's last leg ended, if it ended by a transfer (the softphone's own reason, e.g.
    /// baresip's "Call transfered"), on the collector's clock.
    private func transferEnd(of call: CallRecord) async throws -> Date? {
        guard call.state == "ended", let clock = Integrations.workstationId(of: call.integration),
            let ended = call.endedAt.flatMap(Timestamp.date)
        else { return nil }
        let events = try await collector.callEvents.events(interactionId: call.interactionId, limit: 200)
        let transferred = events.contains {
            $0.integration == call.integration && $0.event.type == .legEnded
                && ($0.event.reason?.lowercased().contains("transfer") ?? false)
        }
        guard transferred else { return nil }
        return try await onCollector(ended, clock: clock)
    }

    private func start(of call: CallRecord) async throws -> Date? {
        guard let clock = Integrations.workstationId(of: call.integration), let started = call.startedAt.flatMap(Timestamp.date)
        else { return nil }
        return try await onCollector(started, clock: clock)
    }

    private func onCollector(_ date: Date, clock: String) async throws -> Date {
        let history = try await collector.clockOffsets.history(agentId: clock, from: date, to: date)
        return ClockOffsets.correction(atWorkstationTime: date, history: history)?.collectorTime(of: date) ?? date
    }

    static func key(_ call: CallRecord) -> String { "\(call.integration)\u{0}\(call.interactionId)" }
}
