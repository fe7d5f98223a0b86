import Foundation
import Logging
import RecorderCore
import Synchronization

/// The workstation's own call events (its softphone's, the local socket's) reported to the collector
/// (`POST /api/v1/agent/call-events`), so that its call catalog knows those calls as it knows the
/// phone system's. They wait in `local-events.json` in the state directory until the collector has
/// them: a collector that is down, or an agent restarted, loses none. At most `limit` wait; past that
/// the oldest are dropped, and the log says how many.
public final class LocalEventReport: Sendable {
    private let link: CollectorLink
    private let file: URL
    private let logger: Logger
    private let pending: Mutex<[CallEvent]>
    private let limit: Int

    struct Batch: Codable {
        var events: [CallEvent]
    }

    public init(link: CollectorLink, stateDirectory: String, logger: Logger, limit: Int = 10_000) {
        self.link = link
        file = URL(fileURLWithPath: stateDirectory).appendingPathComponent("local-events.json")
        self.logger = logger
        self.limit = limit
        let kept = FileManager.default.contents(atPath: file.path).flatMap {
            try? StrictJSON.decode(Batch.self, from: $0, unknownKeys: .ignore).events
        }
        pending = Mutex(kept ?? [])
    }

    /// Events not yet taken by the collector.
    public var waiting: [CallEvent] { pending.withLock { $0 } }

    /// Keeps `event` (on disk before this returns) for the next report.
    public func add(_ event: CallEvent) {
        let dropped = pending.withLock { events -> Int in
            events.append(event)
            let excess = max(0, events.count - limit)
            events.removeFirst(excess)
            save(events)
            return excess
        }
        if dropped > 0 {
            logger.warning(
                "the collector has not taken this workstation's call events for a long time; the oldest were dropped",
                metadata: ["dropped": "\(dropped)"])
        }
    }

    /// `inputs`, passing through, with every local event kept for the collector.
    public func reporting(_ inputs: AsyncStream<CallInput>) -> AsyncStream<CallInput> {
        AsyncStream { continuation in
            let task = Task {
                for await input in inputs {
                    if case .local(let event) = input { add(event) }
                    continuation.yield(input)
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Sends what waits, in batches of 100, every second while there is something; failures are
    /// retried after 1…30 s. Runs on a thread of its own (libcurl blocks) for the life of the agent.
    public func start() {
        let thread = Thread { [self] in
            var pause: TimeInterval = 1
            while true {
                Thread.sleep(forTimeInterval: pause)
                let batch = Array(pending.withLock { $0 }.prefix(100))
                guard !batch.isEmpty else {
                    pause = 1
                    continue
                }
                pause = send(batch) ? 1 : min(pause * 2, 30)
            }
        }
        thread.name = "local-event-report"
        thread.start()
    }

    /// One post; true when the batch is done with (taken, or refused for good).
    func send(_ batch: [CallEvent]) -> Bool {
        let path = "/api/v1/agent/call-events"
        let status: Int
        let body: Data
        do {
            (status, body) = try link.client.send("POST", path, payload: [UInt8](StrictJSON.encode(Batch(events: batch))))
        } catch {
            logger.notice("cannot report the workstation's call events yet", metadata: ["error": "\(error)"])
            return false
        }
        switch status {
        case 200:
            break
        case _ where Self.refusedForGood.contains(status) && batch.count > 1:
            // The collector refuses a post whole: find the one it will never take, one event at a time,
            // rather than drop the good ones with it.
            for event in batch where !send([event]) { return false }
            return true
        case _ where Self.refusedForGood.contains(status):
            // The collector will never take this one (an event the contract refuses, a call over its
            // event cap): dropped, so it does not block every later one.
            logger.error(
                "the collector refused this workstation's call events; they are dropped",
                metadata: [
                    "status": "\(status)", "events": "\(batch.map(\.eventId))",
                    "reason": "\(CollectorClient.errorMessage(in: body) ?? "")",
                ])
        default:
            logger.notice(
                "cannot report the workstation's call events yet",
                metadata: ["status": "\(status)", "reason": "\(CollectorClient.errorMessage(in: body) ?? "")"])
            return false
        }
        let sent = Set(batch.map(\.eventId))
        pending.withLock { events in
            events.removeAll { sent.contains($0.eventId) }
            save(events)
        }
        return true
    }

    /// Statuses no retry changes: the contract refuses an event, a call is over its event cap, a post
    /// is too large.
    static let refusedForGood: Set<Int> = [400, 409, 413]

    /// The whole list, written durably (it is small: a few hundred bytes per event).
    private func save(_ events: [CallEvent]) {
        do {
            try DurableFile.write(try StrictJSON.encode(Batch(events: events)), to: file)
        } catch {
            logger.error("cannot keep the workstation's call events on disk", metadata: ["error": "\(error)"])
        }
    }
}
