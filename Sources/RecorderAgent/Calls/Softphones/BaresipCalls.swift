import Foundation
import RecorderCore

/// What a baresip softphone's `ctrl_tcp` socket says, turned into events of the call contract
/// (`docs/CTI-EVENTS.md`, "baresip"). Pure: `BaresipControl` feeds it the socket's messages and
/// sends the commands it asks for.
///
/// The SIP Call-ID is both the interaction and the leg: a softphone sees one leg per call, and a
/// blind transfer (REFER) makes a new call with a new Call-ID. The collector joins them later.
///
/// baresip 1.0 (Debian 12) has no hold event. A hold or a resume is a re-INVITE, which shows up only
/// as `CALL_LOCAL_SDP` / `CALL_REMOTE_SDP` without saying which. After each of those on an
/// established call the tracker asks `listcalls`. Its text marks a call held by this phone
/// "(on hold)", and the tracker compares that with what it last saw. `listcalls` names calls by
/// their peer, not their Call-ID. Two calls with the same peer cannot be told apart, so their hold
/// state is left unchanged.
struct BaresipCalls {
    /// One message from the socket: an event or the response to a command.
    struct Message: Decodable {
        var event: Bool?
        var response: Bool?
        var type: String?
        var accountaor: String?
        var direction: String?
        var peeruri: String?
        var id: String?
        var param: String?
        var ok: Bool?
        var data: String?
        var token: String?
    }

    /// A call established at this phone.
    struct Call: Equatable {
        var peer: String
        var held = false
        /// Holds and resumes so far: the next event id's number.
        var changes = 0
    }

    /// What to do after a message: events for the state machine, and whether to ask `listcalls`.
    struct Outcome: Equatable {
        var events: [CallEvent] = []
        var askCalls = false
        /// Messages that could not be read, for the log.
        var problem: String?
    }

    /// Established calls by Call-ID.
    private(set) var calls: [String: Call] = [:]
    /// A phone holds a handful of calls; what the socket says beyond this is not kept.
    static let maxCalls = 32

    /// Tokens of the commands this tracker sends; the responses come back with them.
    static let listToken = "recorder-agent/listcalls"

    /// The command to send when `askCalls` is set, netstring-framed.
    static var listCommand: [UInt8] { Netstring.frame(Array(#"{"command":"listcalls","token":"\#(listToken)"}"#.utf8)) }

    mutating func handle(_ bytes: [UInt8], now: Date) -> Outcome {
        let message: Message
        do {
            message = try StrictJSON.decode(Message.self, from: Data(bytes), unknownKeys: .ignore)
        } catch {
            return Outcome(problem: "not a baresip message: \(error)")
        }
        if message.response == true {
            guard message.token == Self.listToken else { return Outcome() }
            guard message.ok == true, let listing = message.data else {
                return Outcome(problem: "listcalls failed: \(OutsideText.bounded(message.data ?? "", limit: 200))")
            }
            return Outcome(events: listed(listing, now: now))
        }
        guard message.event == true, let type = message.type, let id = message.id, !id.isEmpty else { return Outcome() }
        switch type {
        case "CALL_ESTABLISHED":
            guard calls[id] == nil else { return Outcome() }
            guard calls.count < Self.maxCalls else {
                return Outcome(problem: "more than \(Self.maxCalls) calls at once at the softphone; this one is not followed")
            }
            calls[id] = Call(peer: message.peeruri ?? "")
            return checked(started(message, id: id, now: now))
        case "CALL_CLOSED":
            guard calls.removeValue(forKey: id) != nil else { return Outcome() }
            var event = Self.event(id, "closed", .legEnded, now: now)
            event.reason = message.param.map { OutsideText.bounded($0, limit: 200) }
            return checked(event)
        case "CALL_LOCAL_SDP", "CALL_REMOTE_SDP":
            // A re-INVITE on an established call may be a hold or a resume.
            return Outcome(askCalls: calls[id] != nil)
        default:
            return Outcome()
        }
    }

    /// After a reconnect: `listing` is what `listcalls` says now. A call that is not in it ended
    /// while the agent could not hear (baresip restarted, or the call closed in between).
    mutating func listed(_ listing: String, now: Date) -> [CallEvent] {
        let lines = Self.callLines(listing)
        var events: [CallEvent] = []
        for (id, call) in calls.sorted(by: { $0.key < $1.key }) {
            // A call whose peer baresip did not say cannot be found in the listing: left as it is.
            guard !call.peer.isEmpty else { continue }
            let same = lines.filter { $0.peer == call.peer }
            if same.isEmpty {
                calls[id] = nil
                var ended = Self.event(id, "gone", .legEnded, now: now)
                ended.reason = "no longer at the softphone"
                events.append(ended)
                continue
            }
            let sharing = calls.values.filter { $0.peer == call.peer }.count
            guard sharing == 1, same.count == 1, same[0].held != call.held else { continue }
            calls[id]!.held = same[0].held
            calls[id]!.changes += 1
            events.append(
                Self.event(id, "hold/\(calls[id]!.changes)", same[0].held ? .legHeld : .legResumed, now: now))
        }
        return events.compactMap { Self.validated($0) }
    }

    /// The calls `listcalls` prints, one line each:
    /// `> [line 1]  0:00:03  ESTABLISHED  (on hold)  sip:cust@127.0.0.1:5060`.
    static func callLines(_ listing: String) -> [(peer: String, held: Bool)] {
        listing.split(whereSeparator: \.isNewline).compactMap { line in
            guard line.contains("[line "), let peer = line.split(separator: " ").last else { return nil }
            return (String(peer), line.contains("(on hold)"))
        }
    }

    private func started(_ message: Message, id: String, now: Date) -> CallEvent {
        var event = Self.event(id, "established", .legStarted, now: now)
        let peer = message.peeruri.flatMap(Self.user)
        let account = message.accountaor.flatMap(Self.user)
        switch message.direction {
        case "incoming":
            event.direction = .inbound
            (event.ani, event.dnis) = (peer, account)
        case "outgoing":
            event.direction = .outbound
            (event.ani, event.dnis) = (account, peer)
        default: break
        }
        event.agentId = message.accountaor.map { OutsideText.bounded($0, limit: 200) }
        event.attributes = ["softphone": "baresip", "sip_call_id": id]
        if let peer = message.peeruri { event.attributes["peer_uri"] = OutsideText.bounded(peer, limit: 1000) }
        return event
    }

    private func checked(_ event: CallEvent) -> Outcome {
        guard let event = Self.validated(event) else {
            return Outcome(problem: "a baresip call the contract cannot carry (Call-ID \(OutsideText.bounded(event.legId ?? "", limit: 80)))")
        }
        return Outcome(events: [event])
    }

    /// Ids are the same whenever baresip says the same thing again, so a repeat is recognised.
    static func event(_ callId: String, _ what: String, _ type: CallEventType, now: Date) -> CallEvent {
        CallEvent(
            eventId: "baresip/\(callId)/\(what)", type: type, occurredAt: AgentHeartbeat.timestamp(now),
            interactionId: callId, legId: callId)
    }

    /// The event as the contract's decoder would accept it, or nil (an id too long, a control
    /// character in a URI): the same checks as every other way in.
    static func validated(_ event: CallEvent) -> CallEvent? {
        guard let bytes = try? StrictJSON.encode(event) else { return nil }
        return try? StrictJSON.decode(CallEvent.self, from: bytes)
    }

    /// `alice` from `sip:alice@host:port` (or `<sip:alice@host>;tag=…`).
    static func user(_ uri: String) -> String? {
        var text = Substring(uri)
        if let open = text.firstIndex(of: "<") { text = text[text.index(after: open)...] }
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let rest = text[text.index(after: colon)...]
        guard let at = rest.firstIndex(of: "@") else { return nil }
        let user = rest[..<at]
        return user.isEmpty ? nil : OutsideText.bounded(String(user), limit: 200)
    }
}
