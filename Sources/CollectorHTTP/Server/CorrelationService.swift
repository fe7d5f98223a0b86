import CollectorCore
import Logging
import ServiceLifecycle

/// Runs the correlation job (`CorrelationJob`) on this collector: batches one after another while
/// there is work, then a look four times a second. Several collectors on one PostgreSQL share the
/// queue; none does a call another holds.
struct CorrelationService: Service {
    let job: CorrelationJob
    let logger: Logger
    var interval: Duration = .milliseconds(250)

    func run() async throws {
        var failing = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                // A batch in which a call failed still did the others; its failure is logged once per outage.
                while try await job.runOnce() > 0, !Task.isShuttingDownGracefully {}
                if failing { logger.notice("the correlation job reads the catalog again") }
                failing = false
            } catch {
                if !failing { logger.warning("the correlation job failed; retrying", metadata: ["error": "\(error)"]) }
                failing = true
            }
            try? await Task.sleep(for: interval)
        }
    }
}
