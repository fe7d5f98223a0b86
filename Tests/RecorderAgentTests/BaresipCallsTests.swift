import Foundation
import Logging
import RecorderCore
import Testing

@testable import RecorderAgent

/// baresip 1.0's ctrl_tcp messages, as a real baresip sent them on this machine kind (an agent's
/// phone answering a call, holding and resuming it, then transferring it), turned into call events.
struct BaresipCallsTests {
    let now = Date(timeIntervalSince1970: 1_796_150_317)

    static let established =
        #"{"event":true,"type":"CALL_ESTABLISHED","class":"call","accountaor":"sip:agenta@127.0.0.1:5070","direction":"incoming","peeruri":"sip:cust@127.0.0.1:5060","id":"a7846c259bad705f","param":"sip:cust@127.0.0.1:5060"}"#
    static let remoteAnswer =
        #"{"event":true,"type":"CALL_REMOTE_SDP","class":"other","accountaor":"sip:agenta@127.0.0.1:5070","direction":"incoming","peeruri":"sip:cust@127.0.0.1:5060","id":"a7846c259bad705f","param":"answer"}"#
    static let rtcp =
        #"{"event":true,"type":"CALL_RTCP","class":"call","accountaor":"sip:agenta@127.0.0.1:5070","direction":"incoming","peeruri":"sip:cust@127.0.0.1:5060","id":"a7846c259bad705f","param":"audio","rtcp_stats":{"tx":{"sent":0,"lost":0,"jit":0},"rx":{"sent":0,"lost":0,"jit":0},"rtt":0}}"#
    static let held =
        #"{"response":true,"ok":true,"data":"\n--- Active calls (1) ---\n> [line 1]  0:00:03  ESTABLISHED  (on hold)  sip:cust@127.0.0.1:5060\n\n","token":"recorder-agent/listcalls"}"#
    static let notHeld =
        #"{"response":true,"ok":true,"data":"\n--- Active calls (1) ---\n> [line 1]  0:00:05  ESTABLISHED             sip:cust@127.0.0.1:5060\n\n","token":"recorder-agent/listcalls"}"#
    static let none = #"{"response":true,"ok":true,"data":"\n--- Active calls (0) ---\n\n","token":"recorder-agent/listcalls"}"#
    static let transferred =
        #"{"event":true,"type":"CALL_CLOSED","class":"call","accountaor":"sip:agenta@127.0.0.1:5070","direction":"incoming","peeruri":"sip:cust@127.0.0.1:5060","id":"a7846c259bad705f","param":"Call transfered"}"#

    func handle(_ calls: inout BaresipCalls, _ text: String) -> BaresipCalls.Outcome {
        calls.handle(Array(text.utf8), now: now)
    }

    @Test func aCallHeldResumedAndTransferredAwayBecomesItsLegsEvents() throws {
        var calls = BaresipCalls()
        let started = handle(&calls, Self.established)
        let leg = try #require(started.events.first)
        #expect(leg.type == .legStarted && leg.eventId == "baresip/a7846c259bad705f/established")
        #expect(leg.interactionId == "a7846c259bad705f" && leg.legId == "a7846c259bad705f")
        #expect(leg.direction == .inbound && leg.ani == "cust" && leg.dnis == "agenta")
        #expect(leg.agentId == "sip:agenta@127.0.0.1:5070" && leg.attributes["sip_call_id"] == "a7846c259bad705f")
        #expect(leg.occurredAt == AgentHeartbeat.timestamp(now), "baresip sends no time: the agent's clock")
        #expect(handle(&calls, Self.rtcp) == .init(), "statistics are no call event")
        #expect(handle(&calls, Self.remoteAnswer).askCalls, "a re-INVITE may be a hold: ask which")
        #expect(handle(&calls, Self.established).events.isEmpty, "a repeat of the start is no second leg")

        let hold = handle(&calls, Self.held).events
        #expect(hold.map(\.type) == [.legHeld] && hold.first?.eventId == "baresip/a7846c259bad705f/hold/1")
        #expect(handle(&calls, Self.held).events.isEmpty, "still held: nothing new")
        let resume = handle(&calls, Self.notHeld).events
        #expect(resume.map(\.type) == [.legResumed] && resume.first?.eventId == "baresip/a7846c259bad705f/hold/2")

        let ended = handle(&calls, Self.transferred).events
        #expect(ended.map(\.type) == [.legEnded] && ended.first?.reason == "Call transfered")
        #expect(calls.calls.isEmpty)
        #expect(handle(&calls, Self.transferred).events.isEmpty, "a close of a call no longer followed is nothing")
        #expect(handle(&calls, Self.remoteAnswer).askCalls == false)
    }

    @Test func aCallGoneWhileTheAgentWasNotListeningIsEndedAtTheReconnect() {
        var calls = BaresipCalls()
        _ = handle(&calls, Self.established)
        #expect(handle(&calls, Self.notHeld).events.isEmpty, "still there after the reconnect")
        let gone = handle(&calls, Self.none).events
        #expect(gone.map(\.type) == [.legEnded] && gone.first?.eventId == "baresip/a7846c259bad705f/gone")
    }

    @Test func twoCallsWithOnePeerKeepTheirHoldStateRatherThanGuess() {
        var calls = BaresipCalls()
        _ = handle(&calls, Self.established)
        _ = handle(&calls, Self.established.replacingOccurrences(of: "a7846c259bad705f", with: "second-call"))
        #expect(calls.calls.count == 2)
        let listing =
            #"{"response":true,"ok":true,"data":"> [line 1]  0:00:03  ESTABLISHED  (on hold)  sip:cust@127.0.0.1:5060\n  [line 2]  0:00:01  ESTABLISHED             sip:cust@127.0.0.1:5060\n","token":"recorder-agent/listcalls"}"#
        #expect(handle(&calls, listing).events.isEmpty)
    }

    @Test func whatTheContractCannotCarryIsSkippedAndSaid() {
        var calls = BaresipCalls()
        let longId = String(repeating: "x", count: 400)
        let tooLong = handle(&calls, Self.established.replacingOccurrences(of: "a7846c259bad705f", with: longId))
        #expect(tooLong.events.isEmpty && tooLong.problem?.contains("Call-ID") == true)
        let control = handle(&calls, Self.established.replacingOccurrences(of: "a7846c259bad705f", with: #"a\u0000b"#))
        #expect(control.events.isEmpty && control.problem != nil)
        #expect(handle(&calls, "{not json").problem?.contains("not a baresip message") == true)
        #expect(handle(&calls, #"{"response":true,"ok":false,"data":"no","token":"recorder-agent/listcalls"}"#).problem != nil)
        #expect(handle(&calls, #"{"response":true,"ok":true,"data":"","token":"someone-else"}"#) == .init())
    }

    @Test func netstringsAreFramedAndCheckedAsTheyArrive() throws {
        var framing = Netstring()
        #expect(try framing.feed(Array("5:hel".utf8)).isEmpty)
        #expect(try framing.feed(Array("lo,3:abc,".utf8)) == [Array("hello".utf8), Array("abc".utf8)])
        #expect(Netstring.frame(Array("hi".utf8)) == Array("2:hi,".utf8))
        var bad = Netstring()
        #expect(throws: Netstring.Malformed.self) { try bad.feed(Array("5:hello;".utf8)) }
        var huge = Netstring()
        #expect(throws: Netstring.Malformed.self) { try huge.feed(Array("9999999:".utf8)) }
        var noLength = Netstring()
        #expect(throws: Netstring.Malformed.self) { try noLength.feed(Array("{\"json\":1}".utf8)) }
    }

    @Test func onlyALoopbackControlAddressIsAccepted() throws {
        let logger = Logger(label: "test")
        #expect(try BaresipControl(address: "127.0.0.1:4444", logger: logger).port == 4444)
        #expect(try BaresipControl(address: "localhost:4444", logger: logger).host == "127.0.0.1")
        #expect(throws: BaresipControl.InvalidAddress.self) { try BaresipControl(address: "192.0.2.1:4444", logger: logger) }
        #expect(throws: BaresipControl.InvalidAddress.self) { try BaresipControl(address: "127.0.0.1", logger: logger) }
        #expect(throws: BaresipControl.InvalidAddress.self) { try BaresipControl(address: "127.0.0.1:0", logger: logger) }
    }
}
