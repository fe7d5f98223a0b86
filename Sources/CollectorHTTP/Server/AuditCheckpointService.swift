import CollectorCore
import Foundation
import Logging
import ServiceLifecycle

/// Signs the audit chain's head once a minute when it moved (`AuditChain.checkpoint`): what was
/// written before the last checkpoint can no longer be rewritten unnoticed, even by someone who
/// recomputes the hashes. Several collectors may all run it; the chain's lock makes their
/// checkpoints one sequence.
struct AuditCheckpointService: Service {
    let collector: Collector
    let logger: Logger
    var interval: Duration = .seconds(60)

    func run() async throws {
        var failing = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // A minute's wait must not hold up a shutdown.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            do {
                try await AuditChain.checkpoint(collector.catalog, key: collector.auditKey)
                failing = false
            } catch {
                if !failing { logger.warning("cannot sign the audit checkpoint; retrying", metadata: ["error": "\(error)"]) }
                failing = true
            }
        }
        // The last minute's entries are signed on the way out too.
        _ = try? await AuditChain.checkpoint(collector.catalog, key: collector.auditKey)
    }
}
