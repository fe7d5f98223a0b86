import Foundation
import Synchronization

/// The WebDAV subset the agent and the collector need (RFC 4918): MKCOL, PUT, MOVE, HEAD, DELETE for
/// uploads; GET and PROPFIND for the collector, which checks stored segments, reads manifests back
/// for reindexing and probes a storage target for an admin. Over libcurl; every call blocks, so
/// callers run them on threads of their own.
public final class WebDAVClient: Sendable {
    public let target: StorageTarget
    /// Shared by every request of this client; see `TransferCancellation`.
    public let abort: TransferCancellation

    /// Collections this client made or found, so a day's directory costs its MKCOLs once per process.
    private let knownCollections = Mutex<Set<String>>([])
    private let handles = CurlHandlePool()

    public init(target: StorageTarget, abort: TransferCancellation = TransferCancellation()) {
        self.target = target
        self.abort = abort
    }

    /// Stores `bytes` as `directory/name` so that a half-written file never carries the final name:
    /// MKCOL the missing collections, PUT to a temporary name, MOVE with `Overwrite: F`, check the size.
    /// Idempotent: when the final name already holds a file of the same size, the upload counts as done.
    public func store(_ bytes: [UInt8], in directory: [String], name: String) throws {
        try makeCollections(directory)
        // One temporary name per file, not a random one: a PUT cut short by a crash or an outage is
        // overwritten by the retry instead of leaving garbage in the storage. Not hidden (no leading
        // dot): the collector's store refuses hidden names from agents, and an admin should see it.
        let temporary = "\(name).uploading"
        do {
            try put(bytes, to: directory + [temporary])
        } catch let error as TransferError where error.status == 409 {
            // 409: a parent collection is gone (deleted behind our back since we made it): make it again.
            knownCollections.withLock { $0.removeAll() }
            try makeCollections(directory)
            try put(bytes, to: directory + [temporary])
        }
        let moved = try move(from: directory + [temporary], to: directory + [name])
        if !moved {
            // 412: the name exists (a retry after a lost response). Ours if the size matches.
            try? delete(directory + [temporary])
        }
        guard let stored = try size(of: directory + [name]), stored == bytes.count else {
            throw TransferError(
                .rejected, "\(url(directory + [name])) holds a different file than the one uploaded (size mismatch)")
        }
    }

    public func url(_ components: [String], collection: Bool = false) -> String {
        let path = components.map { $0.addingPercentEncoding(withAllowedCharacters: WebDAVClient.pathCharacters)! }
        return target.baseURL + "/" + path.joined(separator: "/") + (collection ? "/" : "")
    }

    private static let pathCharacters = CharacterSet(
        charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

    /// MKCOL each level not known to exist; 405 means it exists already. Another upload (ours, in
    /// parallel, or another agent's) may create it at the same moment, and servers answer that race
    /// differently (Apache: 403), so a failed MKCOL is forgiven when the collection exists afterwards.
    public func makeCollections(_ components: [String]) throws {
        for depth in 1...max(1, components.count) where !components.isEmpty {
            let collection = url(Array(components.prefix(depth)), collection: true)
            if knownCollections.withLock({ $0.contains(collection) }) { continue }
            let status = try perform("MKCOL", collection)
            let exists = try status == 201 || status == 405 || isCollection(collection)
            guard exists else {
                throw TransferError.status(status, "MKCOL", collection)
            }
            knownCollections.withLock { _ = $0.insert(collection) }
        }
    }

    /// PROPFIND Depth 0: 207 means the collection is there.
    func isCollection(_ collection: String) throws -> Bool {
        let status = try perform("PROPFIND", collection, headers: ["Depth: 0"])
        return status == 207
    }

    public func put(_ bytes: [UInt8], to components: [String]) throws {
        let destination = url(components)
        let status = try perform("PUT", destination, body: bytes)
        guard status == 201 || status == 204 || status == 200 else {
            throw TransferError.status(status, "PUT", destination)
        }
    }

    /// Returns false when the destination exists (412 with `Overwrite: F`).
    public func move(from source: [String], to destination: [String]) throws -> Bool {
        let from = url(source)
        let status = try perform("MOVE", from, headers: ["Destination: \(url(destination))", "Overwrite: F"])
        if status == 412 { return false }
        guard status == 201 || status == 204 else { throw TransferError.status(status, "MOVE", from) }
        return true
    }

    /// The stored size, or nil when there is no such file.
    public func size(of components: [String]) throws -> Int? {
        let resource = url(components)
        let (status, length) = try handles.withRequest { request in
            (try request.perform(method: "HEAD", url: resource, target: target, abort: abort), request.contentLength)
        }
        if status == 404 { return nil }
        guard status == 200 else { throw TransferError.status(status, "HEAD", resource) }
        return Int(length)
    }

    /// One request on a pooled handle (connection reused); returns the HTTP status.
    private func perform(_ method: String, _ url: String, body: [UInt8]? = nil, headers: [String] = []) throws -> Int {
        try handles.withRequest {
            try $0.perform(method: method, url: url, body: body, headers: headers, target: target, abort: abort)
        }
    }

    /// Streams the file into `sink` piece by piece (a segment is hashed as it arrives, never held
    /// whole); returns the number of bytes, or nil when there is no such file.
    public func get(_ components: [String], into sink: @escaping (UnsafeRawBufferPointer) -> Void) throws -> Int? {
        let resource = url(components)
        var received = 0
        let status = try handles.withRequest { request in
            request.responseSink = { piece in
                received += piece.count
                sink(piece)
            }
            return try request.perform(method: "GET", url: resource, target: target, abort: abort)
        }
        if status == 404 { return nil }
        guard status == 200 else { throw TransferError.status(status, "GET", resource) }
        return received
    }

    /// PROPFIND with `Depth` 0 or 1 asking for kinds and sizes (RFC 4918 §9.1); returns the status and
    /// the raw multistatus body (up to 32 MiB: a busy day's directory lists thousands of files).
    public func propfind(_ components: [String], depth: Int, collection: Bool = true) throws -> (
        status: Int, body: [UInt8]
    ) {
        let resource = url(components, collection: collection)
        let body = Array(
            """
            <?xml version="1.0" encoding="utf-8"?>
            <D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:getcontentlength/></D:prop></D:propfind>
            """.utf8)
        return try handles.withRequest { request in
            request.responseLimit = 32 << 20
            let status = try request.perform(
                method: "PROPFIND", url: resource, body: body,
                headers: ["Depth: \(depth)", "Content-Type: application/xml; charset=utf-8"], target: target,
                abort: abort)
            return (status, request.responseBody)
        }
    }

    public func delete(_ components: [String]) throws {
        let resource = url(components)
        let status = try perform("DELETE", resource)
        guard status == 204 || status == 200 || status == 404 else {
            throw TransferError.status(status, "DELETE", resource)
        }
    }
}
