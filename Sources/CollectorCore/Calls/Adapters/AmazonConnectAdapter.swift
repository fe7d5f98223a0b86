import Foundation
import RecorderCore

/// Amazon Connect, as AWS documents its feeds: contact events through EventBridge
/// (`"detail-type": "Amazon Connect Contact Event"`, one event or a list) for a contact connected to
/// an agent, disconnected and completed; and agent event stream records (`"EventType": "STATE_CHANGE"`,
/// from Kinesis) for hold, which contact events do not carry. A contact is a leg (`contactId`); its
/// chain of transfers is the interaction (`initialContactId`), a transfer's new contact names the one
/// before (`previousContactId`). Chats and tasks are screen-only work. AWS's own samples spell keys
/// both `agentInfo` and `AgentInfo`: keys are matched without regard to case.
enum AmazonConnectAdapter {
    static let feed = "Amazon Connect"

    static func events(_ tree: JSONValue) throws -> (events: [CallEvent], ignored: Int) {
        var events: [CallEvent] = []
        var ignored = 0
        let items = tree.array.isEmpty ? [tree] : tree.array
        guard items.count <= 100 else { throw CollectorError(.invalid, "at most 100 \(feed) events per post") }
        for item in items {
            let mapped: [CallEvent]
            if item["detail"] != nil {
                mapped = try contactEvent(item)
            } else if item["EventType"] != nil {
                mapped = try agentEvent(item)
            } else {
                throw CollectorError(
                    .invalid,
                    "not an \(feed) contact event (no \"detail\") nor an agent event stream record (no \"EventType\")")
            }
            if mapped.isEmpty { ignored += 1 }
            events += try mapped.map { try FeedAdapter.checked($0, feed: feed) }
        }
        return (events, ignored)
    }

    /// CONNECTED_TO_AGENT, DISCONNECTED and COMPLETED; the other types (INITIATED, QUEUED, …) say
    /// nothing a recording needs.
    static func contactEvent(_ item: JSONValue) throws -> [CallEvent] {
        guard let detail = item["detail"], let id = item["id"]?.string else {
            throw CollectorError(.invalid, "an \(feed) contact event needs its \"id\" and \"detail\"")
        }
        guard let contact = detail["contactId"]?.string else {
            throw CollectorError(.invalid, "detail.contactId is required in an \(feed) contact event")
        }
        let voice = (detail["channel"]?.string ?? "VOICE").uppercased() == "VOICE"
        let type: CallEventType
        var time: String?
        switch (detail["eventType"]?.string ?? "").uppercased() {
        case "CONNECTED_TO_AGENT":
            type = voice ? .legStarted : .screenWorkStarted
            time = detail["agentInfo"]?["connectedToAgentTimestamp"]?.string
        case "DISCONNECTED":
            type = voice ? .legEnded : .screenWorkStopped
            time = detail["disconnectTimestamp"]?.string
        case "COMPLETED":
            guard voice else { return [] }
            type = .afterCallWorkEnded
            time = detail["agentInfo"]?["afterContactWorkEndTimestamp"]?.string
        default:
            return []
        }
        guard let occurred = FeedAdapter.time(time) ?? FeedAdapter.time(item["time"]?.string) else {
            throw CollectorError(.invalid, "the \(feed) contact event \(id) has no time this collector can read")
        }
        var event = CallEvent(
            eventId: id, type: type, occurredAt: occurred,
            interactionId: detail["initialContactId"]?.string ?? contact, legId: contact,
            agentId: detail["agentInfo"]?["agentArn"]?.string, queue: detail["queueInfo"]?["queueArn"]?.string)
        if type == .legStarted { event.relatedLegId = detail["previousContactId"]?.string }
        switch (detail["initiationMethod"]?.string ?? "").uppercased() {
        case "INBOUND": event.direction = .inbound
        case "OUTBOUND", "CALLBACK", "API": event.direction = .outbound
        default: break
        }
        if type == .legEnded { event.reason = detail["disconnectReason"]?.string }
        for (key, value) in [
            ("channel", detail["channel"]?.string), ("initiation_method", detail["initiationMethod"]?.string),
        ] {
            if let value { event.attributes[key] = value }
        }
        return [event]
    }

    /// A STATE_CHANGE record: a contact that went on hold or came off it since the previous snapshot.
    static func agentEvent(_ item: JSONValue) throws -> [CallEvent] {
        guard (item["EventType"]?.string ?? "").uppercased() == "STATE_CHANGE" else { return [] }
        guard let id = item["EventId"]?.string else {
            throw CollectorError(.invalid, "an \(feed) agent event needs its \"EventId\"")
        }
        let before = Dictionary(
            item["PreviousAgentSnapshot"]?["Contacts"]?.array.compactMap { contact in
                contact["ContactId"]?.string.map { ($0, (contact["State"]?.string ?? "").uppercased()) }
            } ?? [], uniquingKeysWith: { first, _ in first })
        var events: [CallEvent] = []
        for contact in item["CurrentAgentSnapshot"]?["Contacts"]?.array ?? [] {
            guard let leg = contact["ContactId"]?.string else { continue }
            let state = (contact["State"]?.string ?? "").uppercased()
            let previous = before[leg]
            let type: CallEventType
            if state == "CONNECTED_ONHOLD", previous != "CONNECTED_ONHOLD" {
                type = .legHeld
            } else if state == "CONNECTED", previous == "CONNECTED_ONHOLD" {
                type = .legResumed
            } else {
                continue
            }
            guard
                let occurred = FeedAdapter.time(contact["StateStartTimestamp"]?.string)
                    ?? FeedAdapter.time(item["EventTimestamp"]?.string)
            else {
                throw CollectorError(.invalid, "the \(feed) agent event \(id) has no time this collector can read")
            }
            events.append(
                CallEvent(
                    eventId: "\(id)/\(leg)/\(type.rawValue)", type: type, occurredAt: occurred,
                    interactionId: contact["InitialContactId"]?.string ?? leg, legId: leg,
                    agentId: item["AgentARN"]?.string, queue: contact["Queue"]?["ARN"]?.string))
        }
        return events
    }
}
