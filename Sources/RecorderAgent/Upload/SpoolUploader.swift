import Foundation
import Logging
import RecorderCore

/// Moves sealed segments from the spool to the node path's storage, oldest first, and deletes them
/// locally only once the storage holds them (size checked). One segment at a time, so the storage sees
/// the agent's chain in order; blocking calls, so it runs on its own thread, never in the capture loop.
public final class SpoolUploader: Sendable {
    public let spool: URL
    public let client: WebDAVClient
    private let logger: Logger

    public init(spool: URL, client: WebDAVClient, logger: Logger) {
        self.spool = spool
        self.client = client
        self.logger = logger
    }

    public struct Pass: Sendable, Equatable {
        public var uploaded = 0
        public var remaining = 0
        /// Why the pass stopped early (nil: the spool is empty).
        public var stoppedBy: UploadError?
    }

    /// Uploads everything pending, in order. Stops at the first error that affects all uploads
    /// (credentials, TLS, full storage, network) and reports it; the spool keeps the rest.
    public func uploadPending() -> Pass {
        var pass = Pass()
        let manifests = pendingManifests()
        for (index, name) in manifests.enumerated() {
            do {
                try upload(manifestName: name)
                pass.uploaded += 1
            } catch let error as UploadError {
                pass.stoppedBy = error
                pass.remaining = manifests.count - index
                logger.error("upload stopped; segments stay in the spool", metadata: ["error": "\(error)"])
                return pass
            } catch {
                pass.stoppedBy = UploadError(.rejected, "\(name): \(error)")
                pass.remaining = manifests.count - index
                return pass
            }
        }
        return pass
    }

    /// Manifest names sort by first-frame time: oldest first.
    func pendingManifests() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: spool.path)) ?? [])
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted()
    }

    /// Segment first, manifest second (the collector looks for the manifest), then local deletion in
    /// the same order; a crash in between only repeats an idempotent upload.
    private func upload(manifestName: String) throws {
        let manifestURL = spool.appendingPathComponent(manifestName)
        let manifestBytes = try Data(contentsOf: manifestURL)
        let manifest = try JSONDecoder().decode(SegmentManifest.self, from: manifestBytes)
        let directory = StorageLayout.directory(
            nodePath: manifest.nodePath, firstFrameTime: manifest.firstFrameTime, agentId: manifest.agentId,
            callId: manifest.callIds.first)
        let segmentURL = spool.appendingPathComponent(manifest.segmentFile)
        if let sealed = FileManager.default.contents(atPath: segmentURL.path) {
            try client.store([UInt8](sealed), in: directory, name: StorageLayout.sanitize(manifest.segmentFile))
        } else if try client.size(of: directory + [StorageLayout.sanitize(manifest.segmentFile)]) != manifest.sealedSize
        {
            throw UploadError(.rejected, "\(manifest.segmentFile) is neither in the spool nor in storage")
        }
        try client.store([UInt8](manifestBytes), in: directory, name: StorageLayout.sanitize(manifestName))
        try? FileManager.default.removeItem(at: segmentURL)
        try FileManager.default.removeItem(at: manifestURL)
        logger.info("uploaded", metadata: ["segment": "\(manifest.segmentFile)", "to": "\(client.url(directory))"])
    }
}
