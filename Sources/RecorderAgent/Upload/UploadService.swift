import Dispatch
import Foundation
import Logging
import RecorderCore
import ServiceLifecycle
import StorageClient

/// Runs upload passes in the background while the agent records: a pass whenever there may be work,
/// exponential backoff with jitter after errors (longer for a full storage or refused credentials), and
/// a last pass at shutdown, after the recorder and the spool writer have finished.
public struct UploadService: Service {
    let uploader: SpoolUploader
    let logger: Logger
    /// How long uploads may go on once shutdown begins; then they are abandoned (the spool keeps
    /// their segments for the next start), so a slow or hung storage cannot outlast systemd's stop timeout.
    let shutdownGrace: Duration
    let onPass: @Sendable (SpoolUploader.Pass) -> Void

    public init(
        uploader: SpoolUploader, logger: Logger, shutdownGrace: Duration = .seconds(10),
        onPass: @escaping @Sendable (SpoolUploader.Pass) -> Void
    ) {
        self.uploader = uploader
        self.logger = logger
        self.shutdownGrace = shutdownGrace
        self.onPass = onPass
    }

    public func run() async throws {
        var failures = 0
        var lastPassFailed = false
        let abort = uploader.client.abort
        let grace = shutdownGrace
        await withGracefulShutdownHandler {
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let pass = await UploadService.onOwnThread { uploader.uploadPending() }
                onPass(pass)
                lastPassFailed = pass.stoppedBy != nil
                let delay: Duration
                if let error = pass.stoppedBy {
                    failures += 1
                    delay = UploadService.backoff(after: error, failures: failures)
                    if !Task.isShuttingDownGracefully {
                        logger.warning("next upload attempt", metadata: ["in_seconds": "\(delay.components.seconds)"])
                    }
                } else {
                    failures = 0
                    delay = .seconds(2)
                }
                // Graceful shutdown ends the wait early; then one last pass below.
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
            }
            // The segments finished during shutdown go now, unless the storage has just failed us:
            // then they wait in the spool for the next start rather than delay the stop.
            if !Task.isCancelled && !lastPassFailed {
                onPass(await UploadService.onOwnThread { uploader.uploadPending() })
            }
        } onGracefulShutdown: {
            DispatchQueue.global().asyncAfter(deadline: .now() + grace.timeInterval) { abort.abort() }
        }
    }

    /// 1 s doubling to 5 min, ±20% jitter so a site's agents do not retry in step; at least 60 s when the
    /// storage is full and 5 min when it refuses our credentials (an admin has to act).
    static func backoff(after error: TransferError, failures: Int) -> Duration {
        let base = min(300.0, pow(2.0, Double(min(failures - 1, 9))))
        let floor: Double =
            switch error.kind {
            case .insufficientStorage: 60
            case .unauthorized, .tls: 300
            default: 1
            }
        let seconds = max(base, floor) * Double.random(in: 0.8...1.2)
        return .milliseconds(Int(seconds * 1000))
    }

    /// libcurl blocks: each pass runs on a thread of its own, never on the cooperative pool.
    public static func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: work()) }
            thread.name = "spool-uploader"
            thread.start()
        }
    }
}
