import Foundation
import RecorderCore
import Testing

@testable import CollectorCore

/// The call catalog's fold: the same call whatever order its events arrive in, and a feed's mistakes
/// noted instead of believed.
struct CallProjectionTests {
    static func event(
        _ id: String, _ type: CallEventType, _ second: Int, leg: String = "leg-1", related: String? = nil,
        agent: String? = "agent-7", receivedSecond: Int? = nil
    ) -> ProjectedEvent {
        var event = CallEvent(
            eventId: id, type: type, occurredAt: String(format: "2026-12-01T10:00:%02dZ", second),
            interactionId: "call-1", legId: leg, relatedLegId: related, agentId: agent, direction: .inbound,
            ani: "+33123", queue: "sales")
        event.receivedAt = String(format: "2026-12-01T10:01:%02d.000Z", receivedSecond ?? second)
        return ProjectedEvent(integration: "pbx", event: event, workstation: agent == nil ? nil : "ws-\(leg)")
    }

    /// Start, hold, resume, transfer to a second agent whose leg starts and ends, and the first leg's end.
    static let call: [ProjectedEvent] = [
        event("e1", .legStarted, 0),
        event("e2", .legHeld, 10),
        event("e3", .legResumed, 20),
        event("e4", .legTransferred, 30, related: "leg-2"),
        event("e5", .legStarted, 31, leg: "leg-2", related: "leg-1", agent: "agent-8"),
        event("e6", .legEnded, 32),
    ]

    @Test func theCallIsTheSameInEveryArrivalOrder() {
        let expected = CallProjection.fold(interactionId: "call-1", events: Self.call)
        #expect(expected.state == "active", "leg-2 has not ended")
        #expect(expected.legs.map(\.legId) == ["leg-1", "leg-2"])
        let first = expected.legs[0]
        #expect(first.holds == [.init(from: "2026-12-01T10:00:10.000Z", to: "2026-12-01T10:00:20.000Z", reason: nil)])
        #expect(first.relatedLegs.map(\.kind) == ["transfer"] && first.state == "ended")
        #expect(expected.legs[1].previousLegId == "leg-1" && expected.legs[1].workstation == "ws-leg-2")
        #expect(expected.anomalies.isEmpty, "\(expected.anomalies)")
        var count = 0
        for order in permutations(Self.call) {
            count += 1
            #expect(CallProjection.fold(interactionId: "call-1", events: order) == expected)
        }
        #expect(count == 720)
    }

    @Test func theFeedsMistakesAreNotedNotBelieved() {
        let ended = CallProjection.fold(
            interactionId: "call-1",
            events: Self.call + [
                Self.event("e7", .legEnded, 40, leg: "leg-2"),
                // A repeat of the end with another id, a hold after the end, and a leg that never started.
                Self.event("e8", .legEnded, 41, leg: "leg-2"),
                Self.event("e9", .legHeld, 42, leg: "leg-2"),
                Self.event("e10", .legEnded, 43, leg: "leg-3"),
            ])
        #expect(ended.legs.map(\.state) == ["ended", "ended", "ended"])
        #expect(ended.state == "ended" && ended.endedAt == "2026-12-01T10:00:43.000Z")
        #expect(ended.startedAt == "2026-12-01T10:00:00.000Z")
        #expect(ended.legs[1].holds.isEmpty, "no hold after the end")
        #expect(ended.anomalies.contains { $0.contains("leg-2 had ended already") }, "\(ended.anomalies)")
        #expect(ended.anomalies.contains { $0.contains("leg-3: no start has arrived") }, "\(ended.anomalies)")
    }

    @Test func aPauseCoversTheLegsActiveThenAndAHoldOpenAtTheEndIsClosed() {
        var pause = Self.event("p1", .recordingPaused, 5)
        pause.event.legId = nil
        var resume = Self.event("p2", .recordingResumed, 8)
        resume.event.legId = nil
        let record = CallProjection.fold(
            interactionId: "call-1",
            events: [Self.event("e1", .legStarted, 0), pause, resume, Self.event("e2", .legHeld, 9), Self.event("e3", .legEnded, 12)])
        #expect(record.legs[0].pauses.map(\.to) == ["2026-12-01T10:00:08.000Z"])
        #expect(record.legs[0].holds.map(\.to) == ["2026-12-01T10:00:12.000Z"], "closed by the end")
    }

    func permutations<T>(_ items: [T]) -> [[T]] {
        guard items.count > 1 else { return [items] }
        return items.indices.flatMap { index -> [[T]] in
            var rest = items
            let item = rest.remove(at: index)
            return permutations(rest).map { [item] + $0 }
        }
    }
}
