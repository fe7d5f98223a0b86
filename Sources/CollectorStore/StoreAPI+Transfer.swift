import CollectorCore
import Foundation
import Hummingbird
import RecorderCore
import WebDAV

extension StoreAPI {
    /// MOVE and COPY inside the store. Refused before anything is written: a destination inside the
    /// source (a COPY of a collection into its own member copied itself until the disk filled) or a
    /// source inside the destination (Overwrite would delete the source first), a destination on
    /// another server (502), a copy larger than the free space or the destination's quota (507), and
    /// any change to catalogued evidence. After a copy that failed half-way, the usage is measured
    /// again so the quota counts what is really there.
    func transfer(_ request: Request, _ source: StorePath, access: Access, actor: Actor, move: Bool) async throws
        -> Response
    {
        let method = move ? "MOVE" : "COPY"
        guard let header = request.headers[.init("Destination")!] else {
            throw CollectorError(.invalid, "\(method) needs a Destination header naming a URL under /dav/ on this server")
        }
        let destination: StorePath
        switch StoreResponses.destination(header, requestAuthority: request.head.authority) {
        case .path(let raw): destination = try StorePath(parsing: raw)
        case .otherServer(let authority):
            throw StoreError(
                .otherServer,
                "the Destination names another server (\(String(authority.prefix(200)))); the store copies and moves only within itself"
            )
        case .invalid: throw CollectorError(.invalid, "Destination must be a URL under /dav/ on this server")
        }
        try StoreScope.checkNames(destination, access: access)
        try StoreScope.authorize(access, destination, write: true, ancestorsAllowed: false)
        let kind = try store.kind(source)
        guard kind != .missing else { throw CollectorError(.notFound, "\(source) does not exist") }
        guard source != destination else { throw CollectorError(.forbidden, "source and destination are the same") }
        if destination.components.starts(with: source.components) {
            throw CollectorError(
                .conflict,
                "\(destination) is inside \(source): a collection cannot be \(move ? "moved" : "copied") into itself")
        }
        if source.components.starts(with: destination.components) {
            throw CollectorError(
                .conflict, "\(source) is inside \(destination): overwriting the destination would delete the source")
        }
        guard let parent = destination.parent, case .collection = try store.kind(parent) else {
            throw CollectorError(.conflict, "the parent of \(destination) does not exist")
        }
        let overwriteHeader = request.headers[.init("Overwrite")!]?.uppercased()
        guard overwriteHeader == nil || overwriteHeader == "T" || overwriteHeader == "F" else {
            throw CollectorError(.invalid, "Overwrite must be T or F (RFC 4918 §10.6)")
        }
        let overwrite = overwriteHeader != "F"
        let existed = try store.kind(destination) != .missing
        if existed && !overwrite {
            throw StoreError(.preconditionFailed, "\(destination) exists and Overwrite is F")
        }
        if existed { try await evidence.refuseChange(of: destination, "overwritten", by: actor) }
        if move { try await evidence.refuseChange(of: source, "moved", by: actor) }

        let store = self.store
        let size = try await BuiltinStore.blocking { store.treeSize(source) }
        let sourceProperties = try await properties.bytes(source)
        let replaced = existed ? try await BuiltinStore.blocking { store.treeSize(destination) } : 0
        let replacedProperties = existed ? try await properties.bytes(destination) : 0
        if !move, size > store.availableBytes + replaced { throw StoreQuota.insufficientStorage() }
        let reservation = try await quota.reservation(
            for: destination, freed: replaced + replacedProperties, alreadyCounted: move ? source : nil)
        defer { reservation.release() }
        do {
            try reservation.grow(to: size + sourceProperties)
        } catch {
            throw StoreQuota.exceeded(error.room)
        }
        if existed {
            try await BuiltinStore.blocking { try store.remove(destination) }
            usage.adjust(destination, by: -replaced - replacedProperties)
            try await properties.removeTree(destination)
        }
        if move {
            try await BuiltinStore.blocking { try store.move(source, to: destination) }
            usage.adjust(source, by: -size - sourceProperties)
            try await properties.moveTree(source, to: destination)
        } else {
            do {
                try await BuiltinStore.blocking { try store.copy(source, to: destination) }
            } catch {
                let copied = try await BuiltinStore.blocking { store.treeSize(destination) }
                usage.adjust(destination, by: copied)
                throw error
            }
            try await properties.copyTree(source, to: destination)
        }
        usage.adjust(destination, by: size + sourceProperties)
        try await audit(
            move ? "move" : "copy", source, "to \(destination)\(existed ? " (replacing it)" : ""), \(size) bytes",
            by: actor)
        return Response(status: existed ? .noContent : .created, headers: [.contentLength: "0"])
    }
}
