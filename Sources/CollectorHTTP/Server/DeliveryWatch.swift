import CollectorCore
import Logging
import ServiceLifecycle

/// Wakes the agents waiting on this collector for events another collector accepted: several
/// collectors share one PostgreSQL and an agent may wait on any of them. One indexed query a quarter
/// second per collector, whatever the number of waiting agents (measured in `benchmarks/cti_events.sh`);
/// events this collector accepts wake their agents at once without it. The catalog's delivery numbers
/// become visible in order (`CallEvents.accept` takes a lock for them), so "after the last seen" misses
/// nothing.
struct DeliveryWatch: Service {
    let collector: Collector
    let logger: Logger
    var interval: Duration = .milliseconds(250)

    func run() async throws {
        var last: Int64?
        var failing = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if let seen = last {
                    var next = seen
                    while true {
                        let rows = try await collector.callEvents.deliveredAgents(after: next)
                        guard let newest = rows.last?.id else { break }
                        next = newest
                        collector.deliverySignals.signal(rows.map(\.agent))
                        if rows.count < 1000 { break }
                    }
                    last = next
                } else {
                    last = try await collector.callEvents.lastDelivery()
                }
                if failing { logger.notice("delivery watch reads the catalog again") }
                failing = false
            } catch {
                if !failing { logger.warning("delivery watch cannot read the catalog", metadata: ["error": "\(error)"]) }
                failing = true
            }
            try? await Task.sleep(for: interval)
        }
    }
}
