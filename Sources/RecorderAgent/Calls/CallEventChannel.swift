import Foundation
import Logging
import RecorderCore
import StorageClient

/// What reaches the call state machine from outside.
public enum CallInput: Sendable {
    case event(CallEvent)
    /// After a reconnect: the legs the collector knows active for this workstation. A leg the agent
    /// thinks active that is not among them ended while the agent was away.
    case activeLegs([CallLeg])
    /// The node path's recording rules, at start and whenever they change.
    case rules(RecordingRules)
    /// From a program on this workstation (`LocalEventSocket`): its legs are this workstation's own,
    /// and a reconnect to the collector never closes them.
    case local(CallEvent)
}

/// The agent's one connection for call events: a long poll of `GET /api/v1/agent/call-events`
/// (the collector answers as soon as something is routed to this workstation, or after 25 s with
/// nothing), after the last cursor handed on; the cursor is kept in the state directory. Chosen over a
/// WebSocket: it rides the libcurl client every other agent request uses (the same TLS pinning,
/// proxies and timeouts), needs no second protocol in the collector, and costs the idle agent one
/// request every 25 s (benchmarks/cti_events.sh measures the latency and the idle cost).
///
/// At start and after any failure the agent resynchronises first (`GET /api/v1/agent/calls/active`):
/// it replays the events of the calls still active for it, learns which legs are active (a leg that
/// ended while it was away is closed) and goes on from the collector's cursor, so it never records a
/// call that is already over. Failures are retried with exponential backoff and jitter; nothing here
/// can stop a recording.
public struct CallEventChannel: Sendable {
    let link: CollectorLink
    let cursorFile: URL
    let logger: Logger
    let wait: Int

    /// `wait`: seconds the collector may hold a request open (tests use short ones).
    public init(link: CollectorLink, stateDirectory: String, logger: Logger, wait: Int = 25) {
        self.link = link
        cursorFile = URL(fileURLWithPath: stateDirectory).appendingPathComponent("call-cursor.json")
        self.logger = logger
        self.wait = wait
    }

    struct Cursor: Codable {
        var after: Int64
    }

    struct Delivery: Decodable {
        var cursor: Int64
        var integration: String?
        var event: CallEvent
    }

    struct Page: Decodable {
        var items: [Delivery]
    }

    /// The part of `GET /api/v1/agent/config` this channel reads.
    struct Configuration: Decodable {
        var recordingRules: RecordingRules?

        enum CodingKeys: String, CodingKey {
            case recordingRules = "recording_rules"
        }
    }

    /// How often the recording rules are read again while the agent runs.
    static let rulesInterval: TimeInterval = 60

    struct Resync: Decodable {
        var cursor: Int64
        var activeLegs: [ActiveLeg]
        /// More legs are active than the collector listed: the agent closes none it does not see.
        var truncated: Bool?
        var events: [Delivery]

        struct ActiveLeg: Decodable {
            var interactionId: String
            var legId: String

            enum CodingKeys: String, CodingKey {
                case interactionId = "interaction_id"
                case legId = "leg_id"
            }
        }

        enum CodingKeys: String, CodingKey {
            case cursor, events
            case activeLegs = "active_legs"
        }
    }

    /// The longest pause between attempts while the collector does not answer.
    static let longestBackoff = 30.0

    /// Inputs as they arrive, until the stream's consumer stops.
    public func inputs() -> AsyncStream<CallInput> {
        AsyncStream { continuation in
            let abort = TransferCancellation()
            let task = Task {
                var cursor =
                    (try? StrictJSON.decode(Cursor.self, from: Data(contentsOf: cursorFile)))?.after ?? 0
                var failures = 0
                var resynchronised = false
                var rules: RecordingRules?
                var rulesRead = Date.distantPast
                func save() { try? DurableFile.write(try StrictJSON.encode(Cursor(after: cursor)), to: cursorFile) }
                func hand(_ delivery: Delivery) {
                    // Ids are unique per integration: two phone systems may both send "e-1".
                    var event = delivery.event
                    if let integration = delivery.integration { event.eventId = "\(integration)/\(event.eventId)" }
                    continuation.yield(.event(event))
                }
                while !Task.isCancelled {
                    let result: Result<Void, Error>
                    // The rules first: the legs replayed by a resync follow the node path's queue rules.
                    if !resynchronised || Date().timeIntervalSince(rulesRead) >= Self.rulesInterval {
                        let read = await request(Configuration.self, "/api/v1/agent/config", abort: abort)
                        if case .success(let configuration) = read {
                            let current = configuration.recordingRules ?? RecordingRules()
                            rulesRead = Date()
                            if current != rules {
                                if rules != nil { logger.notice("recording rules changed") }
                                rules = current
                                continuation.yield(.rules(current))
                            }
                        }
                    }
                    if !resynchronised {
                        result = await request(Resync.self, "/api/v1/agent/calls/active", abort: abort).map { resync in
                            for delivery in resync.events { hand(delivery) }
                            if resync.truncated != true {
                                continuation.yield(
                                    .activeLegs(
                                        resync.activeLegs.map { CallLeg(interactionId: $0.interactionId, legId: $0.legId) }
                                    ))
                            }
                            if resync.cursor != cursor {
                                cursor = resync.cursor
                                save()
                            }
                            resynchronised = true
                            logger.info(
                                "call events resynchronised",
                                metadata: ["active_legs": "\(resync.activeLegs.count)", "cursor": "\(cursor)"])
                        }
                    } else {
                        result = await request(
                            Page.self, "/api/v1/agent/call-events?after=\(cursor)&wait=\(wait)", abort: abort
                        ).map { page in
                            for delivery in page.items {
                                hand(delivery)
                                cursor = max(cursor, delivery.cursor)
                            }
                            if !page.items.isEmpty { save() }
                        }
                    }
                    switch result {
                    case .success:
                        if failures > 0 { logger.notice("call events reach the agent again") }
                        failures = 0
                    case .failure(let error):
                        if Task.isCancelled { break }
                        if failures == 0 { logger.warning("cannot read call events", metadata: ["error": "\(error)"]) }
                        failures += 1
                        resynchronised = false
                        try? await Task.sleep(for: .seconds(Self.backoff(after: failures)))
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in
                abort.abort()
                task.cancel()
            }
        }
    }

    /// Seconds before attempt `failures + 1`: 1, 2, 4 … up to 30, each scaled by a random 0.5–1 so a
    /// thousand agents that lost the same collector do not come back in one instant.
    static func backoff(after failures: Int) -> Double {
        min(longestBackoff, pow(2, Double(min(failures, 10) - 1))) * Double.random(in: 0.5...1)
    }

    private func request<Answer: Decodable & Sendable>(_ answer: Answer.Type, _ path: String, abort: TransferCancellation)
        async -> Result<Answer, Error>
    {
        await UploadService.onOwnThread { [link] () -> Result<Answer, Error> in
            Result { try link.client.exchange("GET", path, body: String?.none, answer: Answer.self, abort: abort) }
        }
    }
}
