import CollectorCore
import Foundation
import Hummingbird
import RecorderCore
import WebDAV

extension StoreAPI {
    func put(_ request: Request, _ path: StorePath, actor: Actor) async throws -> Response {
        guard let parent = path.parent, !path.components.isEmpty else {
            throw CollectorError(.forbidden, "PUT needs a file name")
        }
        // A body announced over the limit is refused before a byte of it is read or written.
        let declared = request.headers[.contentLength].flatMap { Int64($0) }
        if let declared, declared > StoreAPI.maxFileBytes {
            throw CollectorError(
                .tooLarge,
                "a file in the store is at most \(StoreAPI.maxFileBytes) bytes; this one announces \(declared)")
        }
        guard case .collection = try store.kind(parent) else {
            throw CollectorError(.conflict, "\(parent) does not exist; MKCOL it first")
        }
        let existed: Bool
        var previousSize: Int64 = 0
        switch try store.kind(path) {
        case .collection: throw CollectorError(.conflict, "\(path) is a collection")
        case .file(let size, _):
            existed = true
            previousSize = size
            try await evidence.refuseChange(of: path, "overwritten", by: actor)
        case .missing: existed = false
        }
        guard store.availableBytes > (declared ?? 0) else { throw StoreQuota.insufficientStorage() }
        // The quota is claimed as the bytes arrive, so PUTs running side by side cannot together pass
        // it. The announced length is checked up front but not held: a client announcing the whole
        // room and trickling its body would otherwise lock everyone else out of the node path.
        let reservation = try await quota.reservation(for: path, freed: previousSize)
        defer { reservation.release() }
        let written: BuiltinStore.Written
        do {
            if let declared {
                try reservation.grow(to: declared)
                reservation.release()
            }
            // Checked again at the end: the segment may have been catalogued while this body streamed.
            let evidence = self.evidence
            written = try await store.write(
                path, chunks: request.body, maxBytes: StoreAPI.maxFileBytes,
                received: { total in try reservation.grow(to: total) },
                beforePlacing: { try await evidence.refuseChange(of: path, "overwritten", by: actor) })
        } catch let exceeded as StoreQuota.Exceeded {
            throw StoreQuota.exceeded(exceeded.room)
        }
        usage.adjust(path, by: written.bytes - written.replaced)
        let replaced = existed || written.replaced > 0
        try await audit(replaced ? "overwrite" : "put", path, "\(written.bytes) bytes", by: actor)
        return Response(status: replaced ? .noContent : .created, headers: [.contentLength: "0"])
    }

    func mkcol(_ request: Request, _ path: StorePath, actor: Actor) async throws -> Response {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: 1 << 16)
        } catch {
            throw CollectorError(.tooLarge, "MKCOL takes no body")
        }
        if body.readableBytes > 0 {
            throw StoreError(.unsupportedBody, "MKCOL with a request body is not supported")
        }
        guard try store.kind(path) == .missing else {
            throw StoreError(.exists, "\(path) exists already")
        }
        guard let parent = path.parent, case .collection = try store.kind(parent) else {
            throw CollectorError(.conflict, "the parent of \(path) does not exist")
        }
        let store = self.store
        try await BuiltinStore.blocking { try store.makeCollection(path) }
        try await audit("mkcol", path, by: actor)
        return Response(status: .created, headers: [.contentLength: "0"])
    }

    /// Files only for agents (they delete nothing but their own unfinished uploads); catalogued
    /// evidence never (retention will, audited).
    func delete(_ path: StorePath, access: Access, actor: Actor) async throws -> Response {
        let kind = try store.kind(path)
        guard kind != .missing else { throw CollectorError(.notFound, "\(path) does not exist") }
        guard !path.components.isEmpty else { throw CollectorError(.forbidden, "the store's root cannot be deleted") }
        if !access.isAdmin, case .collection = kind {
            throw CollectorError(.forbidden, "agents and integrations may delete files they uploaded, not collections")
        }
        try await evidence.refuseChange(of: path, "deleted", by: actor)
        let store = self.store
        let size = try await BuiltinStore.blocking { store.treeSize(path) }
        let propertyBytes = try await properties.bytes(path)
        do {
            try await BuiltinStore.blocking { try store.remove(path) }
        } catch {
            // Part of a tree may be gone: count what is left.
            let left = try await BuiltinStore.blocking { store.treeSize(path) }
            usage.adjust(path, by: left - size)
            throw error
        }
        usage.adjust(path, by: -size - propertyBytes)
        try await properties.removeTree(path)
        try await audit("delete", path, "\(size) bytes", by: actor)
        return Response(status: .noContent)
    }

    /// Sets and removes dead properties, all or none (RFC 4918 §9.2): a request naming a live
    /// property gets 403 for it and 424 for the rest, and changes nothing. Values count in the quota.
    func proppatch(_ request: Request, _ path: StorePath, actor: Actor) async throws -> Response {
        let requestBody = try await xmlBody(request, method: "PROPPATCH")
        let updates: [PropertyUpdate]
        do {
            updates = try PropertyXML.propertyUpdates(requestBody)
        } catch let error as PropertyXML.Malformed {
            throw CollectorError(.invalid, "the PROPPATCH body is \(error.description)")
        }
        let kind = try store.kind(path)
        guard kind != .missing else { throw CollectorError(.notFound, "\(path) does not exist") }
        let names = updates.map { update -> PropertyName in
            switch update {
            case .set(let name, _), .remove(let name): name
            }
        }
        let protected = names.filter(\.isProtected)
        var propstats: [(names: [PropertyName], status: String)]
        if protected.isEmpty {
            let growth = try await properties.growth(of: updates, on: path)
            let reservation = try await quota.reservation(for: path)
            defer { reservation.release() }
            do {
                try reservation.grow(to: growth)
            } catch {
                throw StoreQuota.exceeded(error.room)
            }
            try await properties.apply(updates, to: path)
            usage.adjust(path, by: growth)
            try await audit("proppatch", path, "\(updates.count) properties", by: actor)
            propstats = [(names, "200 OK")]
        } else {
            propstats = [(protected, "403 Forbidden")]
            let others = names.filter { !$0.isProtected }
            if !others.isEmpty { propstats.append((others, "424 Failed Dependency")) }
        }
        let href = BoundedXML.escape(path.href(collection: StoreResponses.isCollection(kind)))
        let body = propstats.map { propstat in
            "<D:propstat><D:prop>\(propstat.names.map { PropertyXML.element($0, value: nil) }.joined())</D:prop><D:status>HTTP/1.1 \(propstat.status)</D:status></D:propstat>"
        }.joined()
        return StoreResponses.multistatus(["<D:response><D:href>\(href)</D:href>\(body)</D:response>"])
    }
}
