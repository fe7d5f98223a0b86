import CollectorCore
import Logging
import ServiceLifecycle

/// Picks up voice recordings phone systems dropped into the built-in store (`VoiceDrop`), every two
/// seconds. Collectors sharing a catalog may pass over the same pair at once; intake recognises the
/// second as a repeat.
struct VoiceDropService: Service {
    let collector: Collector
    let logger: Logger
    var interval: Duration = .seconds(2)

    func run() async throws {
        var failing = false
        var lastWait: String?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let pass = try await collector.pickUpVoiceDrops()
                for record in pass.imported {
                    logger.info(
                        "voice recording picked up", metadata: ["interaction": "\(record.interactionId)", "leg": "\(record.legId)"])
                }
                for problem in pass.refused {
                    logger.warning("dropped voice recording refused", metadata: ["file": "\(problem.file)", "why": "\(problem.message)"])
                }
                // Retried every pass until an admin fixes it; said again only when it changes.
                let wait = pass.failed.first.map { "\($0.file): \($0.message)" }
                if let problem = pass.failed.first, wait != lastWait {
                    logger.warning(
                        "dropped voice recordings wait", metadata: ["count": "\(pass.failed.count)", "first": "\(problem.file)", "why": "\(problem.message)"])
                }
                lastWait = wait
                if failing { logger.notice("voice drops are read again") }
                failing = false
            } catch {
                if !failing { logger.warning("cannot read the voice drops", metadata: ["error": "\(error)"]) }
                failing = true
            }
            try? await Task.sleep(for: interval)
        }
    }
}
