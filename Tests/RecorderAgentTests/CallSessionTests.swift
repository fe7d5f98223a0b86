import Foundation
import RecorderAgent
import RecorderCore
import Testing

/// The call state machine, rule by rule: events (in any order, repeated) and timers in, recorder
/// commands out.
struct CallSessionTests {
    static let t0 = Date(timeIntervalSince1970: 1_795_435_200)
    var counter = 0

    mutating func event(
        _ type: CallEventType, leg: String = "leg-1", interaction: String = "call-1", related: String? = nil,
        at seconds: Double, id: String? = nil
    ) -> CallEvent {
        counter += 1
        let time = SegmentManifest.timestamp(unixNanos: Int64((Self.t0.timeIntervalSince1970 + seconds) * 1e9))
        return CallEvent(
            eventId: id ?? "e-\(counter)", type: type, occurredAt: time, interactionId: interaction, legId: leg,
            relatedLegId: related)
    }

    func at(_ seconds: Double) -> Date { Self.t0.addingTimeInterval(seconds) }
    let leg1 = LegReference(interactionId: "call-1", legId: "leg-1")
    let leg2 = LegReference(interactionId: "call-1", legId: "leg-2")

    @Test mutating func aCallWithAHoldIsOneRecordingThatStopsAfterThePostRoll() {
        var session = CallSession()
        #expect(session.apply(event(.legStarted, at: 0), now: at(0)) == .applied([.start(legs: [leg1])]))
        #expect(session.apply(event(.legHeld, at: 10), now: at(10)) == .applied([.hold(leg: leg1, held: true)]))
        #expect(session.apply(event(.legResumed, at: 20), now: at(20)) == .applied([.hold(leg: leg1, held: false)]))
        #expect(session.apply(event(.legEnded, at: 30), now: at(30)) == .applied([]), "post-roll: still recording")
        #expect(session.isRecording && session.activeLegs == [leg1], "after-call work belongs to the leg")
        #expect(session.tick(now: at(59)) == [])
        #expect(session.nextDeadline == at(60))
        #expect(session.tick(now: at(60)) == [.stop])
        #expect(!session.isRecording)
    }

    /// After a reconnect the collector says which legs are active: one that is not ended while the
    /// agent was away (closed now, post-roll as usual); its late end, when it comes, changes nothing.
    @Test mutating func legsTheCollectorNoLongerKnowsActiveAreClosedAfterAReconnect() {
        var session = CallSession()
        _ = session.apply(event(.legStarted, at: 0), now: at(0))
        _ = session.apply(event(.consultStarted, related: "leg-2", at: 5), now: at(5))
        #expect(session.reconcile(active: [leg1, leg2], now: at(30)) == [], "nothing changed")
        #expect(session.reconcile(active: [leg1], now: at(31)) == [.cut(legs: [leg1])], "the consult ended")
        #expect(session.reconcile(active: [], now: at(40)) == [], "post-roll")
        #expect(session.isRecording && session.tick(now: at(70)) == [.stop])
        #expect(session.apply(event(.legEnded, at: 35), now: at(71)) == .ignored("leg leg-1 ended already"))
    }

    /// The node path's rules: queues left out are not recorded (nor are their later events applied),
    /// and recording always means the screen is recorded between calls, cut at their boundaries.
    @Test mutating func recordingRulesChooseTheLegsAndMayRecordAlways() {
        var rules = RecordingRules()
        rules.excludeQueues = ["card-payments"]
        rules.postRollSeconds = 5
        var session = CallSession(settings: .init(rules: rules))
        var excluded = event(.legStarted, at: 0)
        excluded.queue = "card-payments"
        #expect(session.apply(excluded, now: at(0)) == .ignored("leg leg-1 is in queue card-payments, which the recording rules leave out"))
        #expect(session.apply(event(.legHeld, at: 1), now: at(1)) == .ignored("leg leg-1 is not recorded (the node path's recording rules)"))
        #expect(!session.isRecording)
        var sales = event(.legStarted, leg: "leg-2", at: 2)
        sales.queue = "sales"
        #expect(session.apply(sales, now: at(2)) == .applied([.start(legs: [leg2])]))
        _ = session.apply(event(.legEnded, leg: "leg-2", at: 3), now: at(3))
        #expect(session.nextDeadline == at(8), "the rules' post-roll")

        rules.recordAlways = true
        #expect(session.update(.init(rules: rules), now: at(4)) == [], "already recording: nothing to start")
        #expect(session.tick(now: at(8)) == [.cut(legs: [])], "the call's segment ends; recording goes on")
        #expect(session.isRecording)
        rules.recordAlways = false
        #expect(session.update(.init(rules: rules), now: at(9)) == [.stop], "no call on: recording stops")
        rules.recordAlways = true
        #expect(session.update(.init(rules: rules), now: at(10)) == [.start(legs: [])])
        rules.recordCalls = false
        _ = session.update(.init(rules: rules), now: at(11))
        #expect(session.apply(event(.legStarted, leg: "leg-3", at: 12), now: at(12)) == .ignored("the recording rules record no calls"))
    }

    /// A softphone's leg is this workstation's own: the collector not knowing it closes nothing.
    @Test mutating func aReconnectLeavesLocalLegsAlone() {
        var session = CallSession()
        _ = session.apply(event(.legStarted, at: 0), now: at(0), local: true)
        #expect(session.reconcile(active: [], now: at(5)) == [])
        #expect(session.activeLegs == [leg1] && session.nextDeadline == nil, "no post-roll started")
    }

    /// A call that ends while paused leaves no pause behind; a leg nothing is heard of for hours
    /// (its end was lost) is taken as ended.
    @Test mutating func pausesEndWithTheCallAndSilentLegsEnd() {
        var settings = CallSession.Settings()
        settings.postRollSeconds = 0
        settings.legSilenceSeconds = 3600
        var session = CallSession(settings: settings)
        _ = session.apply(event(.legStarted, at: 0), now: at(0))
        _ = session.apply(event(.recordingPaused, at: 5), now: at(5))
        _ = session.apply(event(.legEnded, at: 10), now: at(10))
        #expect(session.tick(now: at(10)) == [.stop] && !session.isPaused, "the next call does not start muted")
        #expect(session.apply(event(.legStarted, leg: "leg-2", at: 20), now: at(20)) == .applied([.start(legs: [leg2])]))
        #expect(session.tick(now: at(3619)) == [])
        #expect(session.tick(now: at(3620)) == [.stop], "an hour without a word of leg-2")
    }

    @Test mutating func afterCallWorkEndedStopsAtOnce() {
        var session = CallSession()
        _ = session.apply(event(.legStarted, at: 0), now: at(0))
        _ = session.apply(event(.legEnded, at: 5), now: at(5))
        #expect(session.apply(event(.afterCallWorkEnded, at: 8), now: at(8)) == .applied([.stop]))
        #expect(session.tick(now: at(100)) == [])
    }

    @Test mutating func aConsultAddsItsLegAndTransfersCutTheSegment() {
        var session = CallSession()
        _ = session.apply(event(.legStarted, at: 0), now: at(0))
        _ = session.apply(event(.legHeld, at: 5), now: at(5))
        #expect(
            session.apply(event(.consultStarted, related: "leg-2", at: 6), now: at(6)) == .applied([.cut(legs: [leg1, leg2])]),
            "segments carry every active leg")
        #expect(
            session.apply(event(.legTransferred, related: "leg-2", at: 20), now: at(20))
                == .applied([.cut(legs: [leg1, leg2])]))
        #expect(session.apply(event(.consultEnded, related: "leg-2", at: 21), now: at(21)) == .applied([.cut(legs: [leg1])]))
    }

    @Test mutating func aSecondCallDuringThePostRollCutsInsteadOfStopping() {
        var session = CallSession()
        _ = session.apply(event(.legStarted, at: 0), now: at(0))
        _ = session.apply(event(.legEnded, at: 10), now: at(10))
        let next = LegReference(interactionId: "call-2", legId: "leg-9")
        #expect(
            session.apply(event(.legStarted, leg: "leg-9", interaction: "call-2", at: 15), now: at(15))
                == .applied([.cut(legs: [next])]))
        #expect(session.tick(now: at(60)) == [], "the post-roll was cancelled by the new leg")
        #expect(session.isRecording)
    }

    @Test mutating func repeatsAndOldNewsAreIgnoredWithAReason() {
        var session = CallSession()
        let start = event(.legStarted, at: 0)
        _ = session.apply(start, now: at(0))
        guard case .ignored(let repeated) = session.apply(start, now: at(1)) else {
            Issue.record("a repeated event was applied")
            return
        }
        #expect(repeated.contains("applied already"))
        _ = session.apply(event(.legResumed, at: 20), now: at(21))  // not held: ignored, but it is the newest
        _ = session.apply(event(.legHeld, at: 25), now: at(25))
        // A resume that happened at 22 arrives after the hold at 25: applying it would end the hold.
        guard case .ignored(let stale) = session.apply(event(.legResumed, at: 22), now: at(26)) else {
            Issue.record("an older event was applied over a newer one")
            return
        }
        #expect(stale.contains("happened before the last event applied"))
    }

    @Test mutating func anEndBeforeItsStartMeansNothingIsRecorded() {
        var session = CallSession()
        guard case .ignored(let early) = session.apply(event(.legEnded, at: 30), now: at(30)) else {
            Issue.record("an end without a start was applied")
            return
        }
        #expect(early.contains("ended before its start arrived"))
        guard case .ignored(let late) = session.apply(event(.legStarted, at: 0), now: at(31)) else {
            Issue.record("the late start was recorded")
            return
        }
        #expect(late.contains("started after its end"))
        #expect(!session.isRecording)
    }

    @Test mutating func aPauseStopsCaptureAndAForgottenOneResumesByItself() {
        var settings = CallSession.Settings()
        settings.autoResumeSeconds = 120
        var session = CallSession(settings: settings)
        _ = session.apply(event(.legStarted, at: 0), now: at(0))
        let pause = CallEvent(
            eventId: "p-1", type: .recordingPaused, occurredAt: "2026-11-23T12:00:10Z", reason: "card number")
        #expect(session.apply(pause, now: at(10)) == .applied([.pause(reason: "card number")]))
        #expect(session.isPaused && session.nextDeadline == at(130))
        #expect(session.tick(now: at(129)) == [])
        guard case .resume(_, let automatic)? = session.tick(now: at(130)).first else {
            Issue.record("the pause did not end by itself")
            return
        }
        #expect(automatic && !session.isPaused)
        let resume = CallEvent(eventId: "r-1", type: .recordingResumed, occurredAt: "2026-11-23T12:02:15Z")
        #expect(session.apply(resume, now: at(135)) == .ignored("recording is not paused"))
    }

    @Test mutating func aPauseBeforeTheCallKeepsItsStartPaused() {
        var session = CallSession()
        let pause = CallEvent(eventId: "p-0", type: .recordingPaused, occurredAt: "2026-11-23T11:59:59Z")
        #expect(session.apply(pause, now: at(-1)) == .applied([]))
        #expect(
            session.apply(event(.legStarted, at: 0), now: at(0))
                == .applied([.start(legs: [leg1]), .pause(reason: "paused before the call started")]),
            "no frame before the resume")
    }

    @Test mutating func rememberedEventsAreBounded() {
        var settings = CallSession.Settings()
        settings.rememberedEvents = 2
        var session = CallSession(settings: settings)
        let first = event(.legStarted, at: 0)
        _ = session.apply(first, now: at(0))
        _ = session.apply(event(.legHeld, at: 1), now: at(1))
        _ = session.apply(event(.legResumed, at: 2), now: at(2))
        // The first id is forgotten; the leg's own ordering still refuses it as old news.
        #expect(session.apply(first, now: at(3)) != .applied([.start(legs: [leg1])]))
    }
}
