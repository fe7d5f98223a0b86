import Foundation
import Logging
import RecorderCore
import StorageClient

/// Reads the call events the collector routed to this workstation (`GET /api/v1/agent/call-events`),
/// after the last cursor it handed on, once a second; the cursor is kept in the state directory, so
/// a restart neither repeats nor skips events. A collector that does not answer is retried; nothing
/// here can stop a recording.
public struct CallEventPoller: Sendable {
    let link: CollectorLink
    let cursorFile: URL
    let logger: Logger
    let interval: Duration

    public init(link: CollectorLink, stateDirectory: String, logger: Logger, interval: Duration = .seconds(1)) {
        self.link = link
        cursorFile = URL(fileURLWithPath: stateDirectory).appendingPathComponent("call-cursor.json")
        self.logger = logger
        self.interval = interval
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

    /// Events as they arrive, until the stream's consumer stops.
    public func events() -> AsyncStream<CallEvent> {
        AsyncStream { continuation in
            let task = Task {
                var cursor =
                    (try? StrictJSON.decode(Cursor.self, from: Data(contentsOf: cursorFile)))?.after ?? 0
                var failing = false
                while !Task.isCancelled {
                    let after = cursor
                    let page = await UploadService.onOwnThread { [link] () -> Result<Page, Error> in
                        Result {
                            try link.client.exchange(
                                "GET", "/api/v1/agent/call-events?after=\(after)", body: String?.none, answer: Page.self)
                        }
                    }
                    switch page {
                    case .success(let page):
                        if failing { logger.notice("call events reach the agent again") }
                        failing = false
                        for delivery in page.items {
                            // Ids are unique per integration: two phone systems may both send "e-1".
                            var event = delivery.event
                            if let integration = delivery.integration {
                                event.eventId = "\(integration)/\(event.eventId)"
                            }
                            continuation.yield(event)
                            cursor = max(cursor, delivery.cursor)
                        }
                        if !page.items.isEmpty {
                            try? DurableFile.write(try StrictJSON.encode(Cursor(after: cursor)), to: cursorFile)
                            continue
                        }
                    case .failure(let error):
                        if !failing { logger.warning("cannot read call events", metadata: ["error": "\(error)"]) }
                        failing = true
                    }
                    try? await Task.sleep(for: interval)
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
