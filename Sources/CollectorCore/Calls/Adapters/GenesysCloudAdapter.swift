import Foundation
import RecorderCore

/// Genesys Cloud conversation notifications (`v2.users.{id}.conversations`, `v2.conversations.{id}`):
/// each one is a snapshot of the whole conversation, not a change. The conversation is the
/// interaction (`eventBody.id`); each agent participant's call is a leg (participant `id`, agent
/// `userId`). Events are derived with ids that the same snapshot always gives again, so the feed's
/// repeats are recognised:
///
/// * connected (`connectedTime`) → `leg.started` (a participant that appears while another agent's
///   call ended with a transfer names that one as the leg it came from);
/// * `held` true / false against the catalog's current state of the leg → `leg.held` / `leg.resumed`
///   (the n-th hold gets id `…/held/n`), at `startHoldTime` or on arrival;
/// * `recordingState` paused / active the same way → `recording.paused` / `recording.resumed`;
/// * `consultParticipantId` → `consult.started`, and `consult.ended` once that participant has left;
/// * `disconnectedTime` or state disconnected/terminated → `leg.ended`, the `disconnectType` as reason;
/// * `endAcwTime` → `acw.ended`.
///
/// Notifications carry no time of their own: where the participant has none, the receive time is used.
enum GenesysCloudAdapter {
    static let feed = "Genesys Cloud"

    static func events(
        _ tree: JSONValue, receivedAt: String, current: (String) async throws -> CallRecord?
    ) async throws -> (events: [CallEvent], ignored: Int) {
        guard let body = tree["eventBody"], let conversation = body["id"]?.string else {
            throw CollectorError(
                .invalid, "not a \(feed) conversation notification: eventBody.id (the conversation) is required")
        }
        let participants = body["participants"]?.array ?? []
        guard participants.count <= 100 else {
            throw CollectorError(.invalid, "a \(feed) conversation with more than 100 participants is not a call")
        }
        let record = try await current(conversation)
        let customer = participants.first { ["customer", "external"].contains(($0["purpose"]?.string ?? "").lowercased()) }
        // The agent whose call ended by transfer most recently: in A → B → C, C came from B.
        let transferredFrom = participants.compactMap { participant -> (id: String, at: String)? in
            guard let id = participant["id"]?.string,
                let call = (participant["calls"]?.array ?? []).first(where: {
                    ($0["disconnectType"]?.string ?? "").lowercased().contains("transfer")
                })
            else { return nil }
            return (id, FeedAdapter.time(call["disconnectedTime"]?.string).flatMap(CallEvent.parseTime).map(Timestamp.string) ?? "")
        }.max { $0.at < $1.at }?.id
        let left = Set(
            participants.filter { participant in
                (participant["calls"]?.array ?? []).contains { call in
                    call["disconnectedTime"] != nil
                        || ["disconnected", "terminated"].contains((call["state"]?.string ?? "").lowercased())
                }
            }.compactMap { $0["id"]?.string })

        var events: [CallEvent] = []
        for participant in participants {
            guard ["agent", "user"].contains((participant["purpose"]?.string ?? "").lowercased()),
                let leg = participant["id"]?.string, let call = participant["calls"]?.array.first
            else { continue }
            let known = record?.legs.first { $0.legId == leg }
            func event(_ suffix: String, _ type: CallEventType, at time: String?) -> CallEvent {
                var event = CallEvent(
                    eventId: "\(conversation)/\(leg)/\(suffix)", type: type,
                    occurredAt: FeedAdapter.time(time) ?? receivedAt, interactionId: conversation, legId: leg,
                    agentId: participant["userId"]?.string, queue: participant["queueId"]?.string)
                switch (call["direction"]?.string ?? "").lowercased() {
                case "inbound": event.direction = .inbound
                case "outbound": event.direction = .outbound
                default: break
                }
                event.ani = call["ani"]?.string ?? customer?["address"]?.string ?? customer?["ani"]?.string
                event.dnis = call["dnis"]?.string ?? customer?["dnis"]?.string
                return event
            }
            let state = (call["state"]?.string ?? "").lowercased()
            let ended = call["disconnectedTime"] != nil || ["disconnected", "terminated"].contains(state)
            if call["connectedTime"] != nil || state == "connected" {
                var started = event("connected", .legStarted, at: call["connectedTime"]?.string)
                if let previous = transferredFrom, previous != leg { started.relatedLegId = previous }
                events.append(started)
            }
            if !ended {
                // Ids from the hold's own start where Genesys gives it: a snapshot retried after the
                // resume repeats its hold's id instead of inventing a second hold.
                let holds = known?.holds ?? []
                let open = holds.last.flatMap { $0.to == nil ? $0 : nil }
                if call["held"]?.bool == true, open == nil {
                    let start = FeedAdapter.time(call["startHoldTime"]?.string)
                    events.append(event("held/\(start ?? "n\(holds.count)")", .legHeld, at: start))
                } else if call["held"]?.bool == false, let open {
                    events.append(event("resumed/\(open.from)", .legResumed, at: nil))
                }
                let pauses = known?.pauses ?? []
                let paused = pauses.last.map { $0.to == nil } ?? false
                let recording = (call["recordingState"]?.string ?? "").lowercased()
                if recording == "paused", !paused {
                    var pause = event("paused/\(pauses.count)", .recordingPaused, at: nil)
                    pause.reason = "paused in \(feed)"
                    events.append(pause)
                } else if ["active", "recording"].contains(recording), paused {
                    events.append(event("unpaused/\(pauses.count - 1)", .recordingResumed, at: nil))
                }
            }
            if let consult = call["consultParticipantId"]?.string {
                var started = event("consult/\(consult)", .consultStarted, at: nil)
                started.relatedLegId = consult
                events.append(started)
                if left.contains(consult) {
                    var finished = event("consult-ended/\(consult)", .consultEnded, at: nil)
                    finished.relatedLegId = consult
                    events.append(finished)
                }
            }
            if ended {
                var end = event("disconnected", .legEnded, at: call["disconnectedTime"]?.string)
                end.reason = call["disconnectType"]?.string
                events.append(end)
            }
            if let acw = participant["endAcwTime"]?.string {
                events.append(event("acw", .afterCallWorkEnded, at: acw))
            }
        }
        return (try events.map { try FeedAdapter.checked($0, feed: feed) }, events.isEmpty ? 1 : 0)
    }
}
