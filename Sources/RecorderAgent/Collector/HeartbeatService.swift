import Foundation
import Logging
import RecorderCore
import ServiceLifecycle
import StorageClient

/// Tells the collector every minute that this agent lives: its version, state, spool depth and last
/// error, and its wall clock (the collector derives the clock offset QA needs to line screen up with
/// voice). One heartbeat at start, one per interval, a last one saying "stopping". A failed heartbeat
/// is logged and never touches the recording.
public struct HeartbeatService: Service {
    let link: CollectorLink
    let spool: URL
    let status: AgentStatusFile
    let interval: Duration
    let logger: Logger

    public init(
        link: CollectorLink, spool: URL, status: AgentStatusFile, interval: Duration = .seconds(60), logger: Logger
    ) {
        self.link = link
        self.spool = spool
        self.status = status
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        var roundTrip: Int?
        var failing = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let outcome = await send(state: .recording, roundTrip: roundTrip, abort: nil)
            switch outcome {
            case .success(let answer):
                let measuredBefore = roundTrip != nil
                roundTrip = answer.roundTripMs
                if failing { logger.notice("heartbeats reach the collector again") }
                failing = false
                // The first heartbeat's clock offset is only as good as a guess of its transit time; the
                // next one carries the round trip just measured, so the offset that corrects this
                // workstation's recordings is precise from the start rather than a minute later.
                if !measuredBefore { continue }
            case .failure(let error):
                // One warning per outage, not one a minute.
                if !failing { logger.warning("heartbeat failed", metadata: ["error": "\(error)"]) }
                failing = true
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        // Best effort and brief: a collector that does not answer must not delay the stop.
        let abort = TransferCancellation()
        DispatchQueue.global().asyncAfter(deadline: .now() + 5) { abort.abort() }
        _ = await send(state: .stopping, roundTrip: roundTrip, abort: abort)
    }

    private func send(state: AgentState, roundTrip: Int?, abort: TransferCancellation?) async -> Result<
        CollectorLink.HeartbeatOutcome, TransferError
    > {
        let report = heartbeat(state: state, roundTrip: roundTrip)
        return await UploadService.onOwnThread { [link] in
            Result { () throws(TransferError) in try link.heartbeat(report, abort: abort) }
        }
    }

    func heartbeat(state: AgentState, roundTrip: Int?) -> AgentHeartbeat {
        // The same measure the spool limits are enforced with, so admins see the number that counts.
        let contents = SpoolContents.scan(spool)
        let current = status.current
        return AgentHeartbeat(
            roundTripMs: roundTrip, state: state, spoolSegments: contents.segments, spoolBytes: Int(contents.bytes),
            lastError: current.lastError, lastErrorAt: current.lastErrorTime)
    }
}
