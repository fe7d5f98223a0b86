import Foundation

/// The WebDAV subset the agent needs (RFC 4918): MKCOL, PUT, MOVE, HEAD, DELETE, over libcurl.
/// Every call blocks; the uploader runs them on its own threads.
public struct WebDAVClient: Sendable {
    public let target: StorageTarget

    public init(target: StorageTarget) {
        self.target = target
    }

    /// Stores `bytes` as `directory/name` so that a half-written file never carries the final name:
    /// MKCOL the missing collections, PUT to a temporary name, MOVE with `Overwrite: F`, check the size.
    /// Idempotent: when the final name already holds a file of the same size, the upload counts as done.
    public func store(_ bytes: [UInt8], in directory: [String], name: String) throws {
        try makeCollections(directory)
        let temporary = ".\(name).uploading-\(UUID().uuidString.prefix(8))"
        try put(bytes, to: directory + [temporary])
        let moved = try move(from: directory + [temporary], to: directory + [name])
        if !moved {
            // 412: the name exists (a retry after a lost response). Ours if the size matches.
            try? delete(directory + [temporary])
        }
        guard let stored = try size(of: directory + [name]), stored == bytes.count else {
            throw UploadError(
                .rejected, "\(url(directory + [name])) holds a different file than the one uploaded (size mismatch)")
        }
    }

    public func url(_ components: [String], collection: Bool = false) -> String {
        let path = components.map { $0.addingPercentEncoding(withAllowedCharacters: WebDAVClient.pathCharacters)! }
        return target.baseURL + "/" + path.joined(separator: "/") + (collection ? "/" : "")
    }

    private static let pathCharacters = CharacterSet(
        charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

    /// MKCOL each level; 405 means it exists already.
    public func makeCollections(_ components: [String]) throws {
        for depth in 1...max(1, components.count) where !components.isEmpty {
            let collection = url(Array(components.prefix(depth)), collection: true)
            let status = try CurlRequest().perform(method: "MKCOL", url: collection, target: target)
            guard status == 201 || status == 405 else { throw UploadError.status(status, "MKCOL", collection) }
        }
    }

    public func put(_ bytes: [UInt8], to components: [String]) throws {
        let destination = url(components)
        let status = try CurlRequest().perform(method: "PUT", url: destination, body: bytes, target: target)
        guard status == 201 || status == 204 || status == 200 else {
            throw UploadError.status(status, "PUT", destination)
        }
    }

    /// Returns false when the destination exists (412 with `Overwrite: F`).
    public func move(from source: [String], to destination: [String]) throws -> Bool {
        let from = url(source)
        let status = try CurlRequest().perform(
            method: "MOVE", url: from, headers: ["Destination: \(url(destination))", "Overwrite: F"], target: target)
        if status == 412 { return false }
        guard status == 201 || status == 204 else { throw UploadError.status(status, "MOVE", from) }
        return true
    }

    /// The stored size, or nil when there is no such file.
    public func size(of components: [String]) throws -> Int? {
        let request = CurlRequest()
        let resource = url(components)
        let status = try request.perform(method: "HEAD", url: resource, target: target)
        if status == 404 { return nil }
        guard status == 200 else { throw UploadError.status(status, "HEAD", resource) }
        return Int(request.contentLength)
    }

    public func delete(_ components: [String]) throws {
        let resource = url(components)
        let status = try CurlRequest().perform(method: "DELETE", url: resource, target: target)
        guard status == 204 || status == 200 || status == 404 else {
            throw UploadError.status(status, "DELETE", resource)
        }
    }
}
