import Foundation
import Logging
import RecorderCore
import StorageClient
import Synchronization

/// Moves sealed segments from the spool to the node path's storage, oldest first, and deletes them
/// locally only once the storage holds them (size checked). Up to `parallelUploads` segments travel at
/// once, taken in order; the arrival order does not matter to anyone, because each manifest names its
/// predecessor's hash (the chain is checked by content, not by upload time). Blocking calls, on threads
/// of the uploader's own, never in the capture loop. An enrolled agent also reports each manifest to
/// its collector, and a segment leaves the spool only once both the storage and the collector have it.
public final class SpoolUploader: Sendable {
    public let spool: URL
    public let client: WebDAVClient
    public let collector: CollectorLink?
    /// The agent's chain: a manifest is taken only once the head has moved past it
    /// (`ManifestChain.isCommitted`), so no segment leaves the spool while a crash could still make its
    /// journal or its sequence number look unused.
    public let chain: ManifestChain?
    private let logger: Logger

    public init(spool: URL, client: WebDAVClient, collector: CollectorLink? = nil, chain: ManifestChain? = nil, logger: Logger) {
        self.spool = spool
        self.client = client
        self.collector = collector
        self.chain = chain
        self.logger = logger
    }

    public struct Pass: Sendable, Equatable {
        public var uploaded = 0
        public var remaining = 0
        /// Why the pass stopped early (nil: the spool is empty).
        public var stoppedBy: TransferError?
    }

    /// Uploads everything pending. Stops taking new segments at the first error (they affect all
    /// uploads: credentials, TLS, full storage, network) and reports it; the spool keeps the rest.
    public func uploadPending() -> Pass {
        let manifests = pendingManifests()
        let queue = Mutex(Queue(names: manifests))
        let workers = min(client.target.parallelUploads, manifests.count)
        let group = DispatchGroup()
        for index in 0..<workers {
            group.enter()
            let thread = Thread { [self] in
                defer { group.leave() }
                while let name = queue.withLock({ $0.next() }) {
                    do {
                        try upload(manifestName: name)
                        queue.withLock { $0.uploaded += 1 }
                    } catch {
                        let failure =
                            error as? TransferError ?? TransferError(.rejected, "\(name): \(error)")
                        queue.withLock { $0.stop(failure) }
                    }
                }
            }
            thread.name = "spool-upload-\(index)"
            thread.start()
        }
        group.wait()
        let result = queue.withLock { $0 }
        if let error = result.stoppedBy {
            logger.error("upload stopped; segments stay in the spool", metadata: ["error": "\(error)"])
        }
        return Pass(
            uploaded: result.uploaded, remaining: manifests.count - result.uploaded, stoppedBy: result.stoppedBy)
    }

    /// The pass's work list, shared by its threads under a lock.
    private struct Queue: Sendable {
        let names: [String]
        var nextIndex = 0
        var uploaded = 0
        var stoppedBy: TransferError?

        mutating func next() -> String? {
            guard stoppedBy == nil, nextIndex < names.count else { return nil }
            defer { nextIndex += 1 }
            return names[nextIndex]
        }

        mutating func stop(_ error: TransferError) {
            if stoppedBy == nil { stoppedBy = error }
        }
    }

    /// Manifest names sort by first-frame time: oldest first.
    func pendingManifests() -> [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: spool.path)) ?? [])
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted()
        guard let chain else { return names }
        return names.filter { name in
            guard let bytes = FileManager.default.contents(atPath: spool.appendingPathComponent(name).path),
                let manifest = try? JSONDecoder().decode(SegmentManifest.self, from: bytes)
            else { return true }  // unreadable: the upload names the problem
            return chain.isCommitted(manifest)
        }
    }

    /// Segment first, manifest second (reindexing finds segments by their manifests), then the report
    /// to the collector (which checks the stored object), then local deletion in the same order; a
    /// crash or a refusal in between keeps both files and only repeats idempotent steps.
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
            throw TransferError(.rejected, "\(manifest.segmentFile) is neither in the spool nor in storage")
        }
        try client.store([UInt8](manifestBytes), in: directory, name: StorageLayout.sanitize(manifestName))
        if let collector {
            do {
                _ = try collector.reportManifest([UInt8](manifestBytes), abort: client.abort)
            } catch {
                throw TransferError(
                    error.kind, "\(manifest.segmentFile) is stored but not recorded: \(error)", status: error.status)
            }
        }
        try? FileManager.default.removeItem(at: segmentURL)
        try FileManager.default.removeItem(at: manifestURL)
        logger.info("uploaded", metadata: ["segment": "\(manifest.segmentFile)", "to": "\(client.url(directory))"])
    }
}
