import Foundation
import Hummingbird
import Synchronization

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// `/dav/...`: the built-in store over the WebDAV subset agents and admins use (RFC 4918 class 1):
/// OPTIONS, PROPFIND (depth 0 and 1; allprop, prop, propname), PROPPATCH (dead properties, kept in the
/// catalog), MKCOL, PUT, GET/HEAD (with a byte range), DELETE, MOVE, COPY. Admins (session token, or HTTP Basic with their password) see
/// everything; an agent (its token) writes only under `{its node path}/{yyyy}/{mm}/{dd}/{its id}/`.
struct StoreAPI {
    let collector: Collector
    let store: BuiltinStore
    let basicCache = BasicCredentialCache()
    static let maxFileBytes: Int64 = 1 << 30
    var properties: DeadProperties { DeadProperties(catalog: collector.catalog) }
    let usage: StoreUsage

    init(collector: Collector, store: BuiltinStore) {
        self.collector = collector
        self.store = store
        usage = StoreUsage(store: store)
    }

    func register(on router: Router<CollectorContext>) {
        let methods: [HTTPRequest.Method] = [
            .options, .get, .head, .put, .delete, .init("PROPFIND")!, .init("PROPPATCH")!, .init("MKCOL")!,
            .init("MOVE")!, .init("COPY")!,
        ]
        for method in methods {
            for pattern in ["dav", "dav/**"] {
                router.on(RouterPath(pattern), method: method) { request, context in
                    try await handle(request, context: context)
                }
            }
        }
    }

    enum Access: Equatable {
        case admin
        case agent(Agents.Agent)
    }

    func handle(_ request: Request, context: CollectorContext) async throws -> Response {
        let access = try await authenticate(request)
        let raw = String(request.uri.path.dropFirst("/dav".count))
        let path = try StorePath(parsing: raw)
        let method = request.method.rawValue
        if method == "OPTIONS" {
            return Response(
                status: .ok,
                headers: [
                    .init("DAV")!: "1",
                    .allow: "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, MKCOL, MOVE, COPY",
                    .contentLength: "0",
                ])
        }
        let writes = ["PUT", "DELETE", "MOVE", "COPY", "MKCOL", "PROPPATCH"].contains(method)
        try authorize(access, path, write: writes && method != "MKCOL", ancestorsAllowed: !writes || method == "MKCOL")
        switch method {
        case "GET", "HEAD": return try get(request, path, headOnly: method == "HEAD")
        case "PUT": return try await put(request, path)
        case "MKCOL": return try await mkcol(request, path)
        case "DELETE":
            guard try store.kind(path) != .missing else { throw AdminError(.notFound, "\(path) does not exist") }
            guard !path.components.isEmpty else { throw AdminError(.forbidden, "the store's root cannot be deleted") }
            let size = StoreUsage.treeSize(store.url(path))
            try store.remove(path)
            usage.adjust(path, by: -size)
            try await properties.removeTree(path)
            return Response(status: .noContent)
        case "MOVE", "COPY": return try await transfer(request, path, access: access, move: method == "MOVE")
        case "PROPFIND": return try await propfind(request, path)
        case "PROPPATCH": return try await proppatch(request, path)
        default: throw HTTPError(.methodNotAllowed)
        }
    }

    private func authenticate(_ request: Request) async throws -> Access {
        guard let header = request.headers[.authorization] else {
            throw AdminError(
                .unauthorized, "the store needs an agent token, an admin session, or admin Basic credentials")
        }
        if let token = SessionAuthentication.bearerToken(request) {
            if let agent = try await collector.agents.agent(forToken: token) { return .agent(agent) }
            if try await collector.users.user(forSessionToken: token) != nil { return .admin }
        } else if header.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
        {
            let username = String(text[..<colon])
            let password = String(text[text.index(after: colon)...])
            if basicCache.isValid(header) { return .admin }
            if try await collector.users.checkPassword(username: username, password: password) {
                basicCache.remember(header)
                return .admin
            }
        }
        throw AdminError(.unauthorized, "wrong or revoked credentials for the store")
    }

    /// An agent's area: `{node path}/{yyyy}/{mm}/{dd}/{agent id}/...`. `ancestorsAllowed` also admits
    /// the collections above it (an agent makes and looks at them, never writes into them).
    func authorize(_ access: Access, _ path: StorePath, write: Bool, ancestorsAllowed: Bool) throws {
        guard case .agent(let agent) = access else { return }
        let node = agent.nodePath.split(separator: "/").map(String.init)
        let components = path.components
        func matches(_ index: Int, _ component: String) -> Bool {
            if index < node.count { return component == node[index] }
            switch index - node.count {
            case 0: return component.count == 4 && component.allSatisfy(\.isNumber)
            case 1, 2: return component.count == 2 && component.allSatisfy(\.isNumber)
            case 3: return component == agent.id
            default: return true
            }
        }
        let prefixOK = components.enumerated().allSatisfy { matches($0.offset, $0.element) }
        let inside = components.count > node.count + 4
        guard prefixOK, inside || (ancestorsAllowed && !write) else {
            throw AdminError(
                .forbidden,
                "agent \(agent.id) may write only under \(agent.nodePath)/YYYY/MM/DD/\(agent.id)/, not \(path)")
        }
    }

    private func get(_ request: Request, _ path: StorePath, headOnly: Bool) throws -> Response {
        guard case .file(let size, let modified) = try store.kind(path) else {
            throw AdminError(.notFound, "\(path) is not a file in the store")
        }
        var headers: HTTPFields = [
            .contentType: "application/octet-stream", .acceptRanges: "bytes",
            .lastModified: StoreAPI.httpDate(modified),
        ]
        var range = 0..<size
        var status = HTTPResponse.Status.ok
        if let header = request.headers[.range] {
            guard let requested = StoreAPI.byteRange(header, size: size) else {
                headers[.contentRange] = "bytes */\(size)"
                return Response(status: .rangeNotSatisfiable, headers: headers)
            }
            range = requested
            status = .partialContent
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(size)"
        }
        headers[.contentLength] = "\(range.count)"
        if headOnly { return Response(status: status, headers: headers) }
        let handle = try FileHandle(forReadingFrom: store.url(path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(range.lowerBound))
        let data = try handle.read(upToCount: Int(range.count)) ?? Data()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    private func put(_ request: Request, _ path: StorePath) async throws -> Response {
        guard let parent = path.parent, !path.components.isEmpty else {
            throw AdminError(.forbidden, "PUT needs a file name")
        }
        guard case .collection = try store.kind(parent) else {
            throw AdminError(.conflict, "\(parent) does not exist; MKCOL it first")
        }
        let existed: Bool
        var previousSize: Int64 = 0
        switch try store.kind(path) {
        case .collection: throw AdminError(.conflict, "\(path) is a collection")
        case .file(let size, _):
            existed = true
            previousSize = size
        case .missing: existed = false
        }
        let declared = request.headers[.contentLength].flatMap { Int64($0) } ?? 0
        guard store.availableBytes > declared else {
            return insufficientStorage()
        }
        let quota = try await quotaRoom(for: path, freed: previousSize)
        if let quota, declared > quota.room { return quotaExceeded(quota) }
        let written: Int64
        do {
            written = try await store.write(
                path, chunks: request.body.map { [UInt8](buffer: $0) },
                maxBytes: min(StoreAPI.maxFileBytes, quota?.room ?? .max))
        } catch is StoreFull {
            return insufficientStorage()
        } catch let error as AdminError where error.kind == .tooLarge {
            if let quota, quota.room < StoreAPI.maxFileBytes { return quotaExceeded(quota) }
            throw error
        }
        usage.adjust(path, by: written - previousSize)
        return Response(status: existed ? .noContent : .created, headers: [.contentLength: "0"])
    }

    /// The tightest quota among the node paths whose directory holds `path`: how many more bytes may
    /// go there (counting `freed` bytes the write replaces), or nil when no quota applies.
    private func quotaRoom(for path: StorePath, freed: Int64 = 0, alreadyCounted: StorePath? = nil) async throws
        -> QuotaRoom?
    {
        var tightest: QuotaRoom?
        for (nodePath, bytes) in try await collector.nodePaths.quotas() where StoreUsage.covers(nodePath, path) {
            // A move inside one quota's directory adds nothing to it.
            if let alreadyCounted, StoreUsage.covers(nodePath, alreadyCounted) { continue }
            let used = usage.bytes(under: nodePath)
            let room = bytes - used + freed
            if tightest.map({ room < $0.room }) ?? true {
                tightest = QuotaRoom(nodePath: nodePath, quota: bytes, used: used, room: max(0, room))
            }
        }
        return tightest
    }

    struct QuotaRoom {
        var nodePath: String
        var quota: Int64
        var used: Int64
        var room: Int64
    }

    private func quotaExceeded(_ quota: QuotaRoom) -> Response {
        let megabytes = { (bytes: Int64) in String(format: "%.1f", Double(bytes) / 1_048_576) }
        return JSONErrorMiddleware.response(
            .init(code: 507, reasonPhrase: "Insufficient Storage"), "quota_exceeded",
            "node path \(quota.nodePath) is at its quota: \(megabytes(quota.used)) of \(megabytes(quota.quota)) MB used; an admin must raise it (recorder-collector admin node-path set \(quota.nodePath) --quota-mb N) or free space"
        )
    }

    private func insufficientStorage() -> Response {
        JSONErrorMiddleware.response(
            .init(code: 507, reasonPhrase: "Insufficient Storage"), "insufficient_storage",
            "the collector's store is full; an admin must free space or add storage")
    }

    private func mkcol(_ request: Request, _ path: StorePath) async throws -> Response {
        if try await request.body.collect(upTo: 1 << 20).readableBytes > 0 {
            return JSONErrorMiddleware.response(
                .unsupportedMediaType, "unsupported_media_type", "MKCOL with a request body is not supported")
        }
        guard try store.kind(path) == .missing else {
            return JSONErrorMiddleware.response(.methodNotAllowed, "exists", "\(path) exists already")
        }
        guard let parent = path.parent, case .collection = try store.kind(parent) else {
            throw AdminError(.conflict, "the parent of \(path) does not exist")
        }
        try store.makeCollection(path)
        return Response(status: .created, headers: [.contentLength: "0"])
    }

    private func transfer(_ request: Request, _ source: StorePath, access: Access, move: Bool) async throws
        -> Response
    {
        guard let header = request.headers[.init("Destination")!],
            let destinationPath = StoreAPI.davPath(fromDestination: header)
        else { throw AdminError(.invalid, "Destination must be a URL under /dav/ on this server") }
        let destination = try StorePath(parsing: destinationPath)
        try authorize(access, destination, write: true, ancestorsAllowed: false)
        guard try store.kind(source) != .missing else { throw AdminError(.notFound, "\(source) does not exist") }
        guard source != destination else { throw AdminError(.forbidden, "source and destination are the same") }
        guard let parent = destination.parent, case .collection = try store.kind(parent) else {
            throw AdminError(.conflict, "the parent of \(destination) does not exist")
        }
        let overwrite = request.headers[.init("Overwrite")!]?.uppercased() != "F"
        let existed = try store.kind(destination) != .missing
        if existed && !overwrite {
            return JSONErrorMiddleware.response(
                .preconditionFailed, "exists", "\(destination) exists and Overwrite is F")
        }
        let size = StoreUsage.treeSize(store.url(source))
        let replaced = existed ? StoreUsage.treeSize(store.url(destination)) : 0
        if let quota = try await quotaRoom(for: destination, freed: replaced, alreadyCounted: move ? source : nil),
            size > quota.room
        {
            return quotaExceeded(quota)
        }
        if existed {
            try store.remove(destination)
            usage.adjust(destination, by: -replaced)
        }
        if move {
            try store.move(source, to: destination)
            usage.adjust(source, by: -size)
            try await properties.moveTree(source, to: destination)
        } else {
            try store.copy(source, to: destination)
            try await properties.copyTree(source, to: destination)
        }
        usage.adjust(destination, by: size)
        return Response(status: existed ? .noContent : .created, headers: [.contentLength: "0"])
    }

    private func propfind(_ request: Request, _ path: StorePath) async throws -> Response {
        let requestBody = try await request.body.collect(upTo: 1 << 20)
        let wanted: PropertyXML.PropfindRequest
        do {
            wanted = try PropertyXML.propfindRequest(Data(buffer: requestBody))
        } catch let error as PropertyXML.Malformed {
            throw AdminError(.invalid, "the PROPFIND body is \(error.description)")
        }
        let depth = request.headers[.init("Depth")!] ?? "infinity"
        guard depth == "0" || depth == "1" else {
            throw AdminError(.forbidden, "PROPFIND with Depth: \(depth) is not supported; use 0 or 1")
        }
        let kind = try store.kind(path)
        guard kind != .missing else { throw AdminError(.notFound, "\(path) does not exist") }
        var resources = [(path, kind)]
        if depth == "1", case .collection = kind {
            for name in try store.children(path) {
                let child = StorePath(components: path.components + [name])
                resources.append((child, try store.kind(child)))
            }
        }
        let dead = try await properties.all(path, depth: depth == "0" ? 0 : 1)
        return StoreAPI.multistatus(
            resources.map { resource, kind in
                StoreAPI.propEntry(resource, kind, dead: dead[resource.description] ?? [:], wanted: wanted)
            })
    }

    /// Sets and removes dead properties, all or none (RFC 4918 §9.2): a request naming a live
    /// property gets 403 for it and 424 for the rest, and changes nothing.
    private func proppatch(_ request: Request, _ path: StorePath) async throws -> Response {
        let requestBody = try await request.body.collect(upTo: 1 << 20)
        let updates: [DeadProperties.Update]
        do {
            updates = try PropertyXML.propertyUpdates(Data(buffer: requestBody))
        } catch let error as PropertyXML.Malformed {
            throw AdminError(.invalid, "the PROPPATCH body is \(error.description)")
        }
        let kind = try store.kind(path)
        guard kind != .missing else { throw AdminError(.notFound, "\(path) does not exist") }
        let names = updates.map { update -> PropertyName in
            switch update {
            case .set(let name, _), .remove(let name): name
            }
        }
        let protected = names.filter(\.isProtected)
        var propstats: [(names: [PropertyName], status: String)]
        if protected.isEmpty {
            try await properties.apply(updates, to: path)
            propstats = [(names, "200 OK")]
        } else {
            propstats = [(protected, "403 Forbidden")]
            let others = names.filter { !$0.isProtected }
            if !others.isEmpty { propstats.append((others, "424 Failed Dependency")) }
        }
        let href = StoreAPI.xmlEscape(path.href(collection: StoreAPI.isCollection(kind)))
        let body = propstats.map { propstat in
            "<D:propstat><D:prop>\(propstat.names.map { PropertyXML.element($0, value: nil) }.joined())</D:prop><D:status>HTTP/1.1 \(propstat.status)</D:status></D:propstat>"
        }.joined()
        return StoreAPI.multistatus(["<D:response><D:href>\(href)</D:href>\(body)</D:response>"])
    }

    static func multistatus(_ entries: [String]) -> Response {
        let body = """
            <?xml version="1.0" encoding="utf-8"?>
            <D:multistatus xmlns:D="DAV:">\(entries.joined())</D:multistatus>
            """
        return Response(
            status: .init(code: 207, reasonPhrase: "Multi-Status"),
            headers: [.contentType: "application/xml; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func isCollection(_ kind: BuiltinStore.Kind) -> Bool {
        if case .collection = kind { true } else { false }
    }

    /// One resource's `D:response`: live properties (resourcetype, getcontentlength, getlastmodified)
    /// and dead ones, as the request asked — all, only names, or the named ones with a 404 propstat
    /// for those the resource lacks.
    static func propEntry(
        _ path: StorePath, _ kind: BuiltinStore.Kind, dead: [PropertyName: String] = [:],
        wanted: PropertyXML.PropfindRequest = .allprop
    ) -> String {
        var live: [(String, String)] = []
        switch kind {
        case .collection(let modified):
            live = [
                ("resourcetype", "<D:resourcetype><D:collection/></D:resourcetype>"),
                ("getlastmodified", "<D:getlastmodified>\(httpDate(modified))</D:getlastmodified>"),
            ]
        case .file(let size, let modified):
            live = [
                ("resourcetype", "<D:resourcetype/>"),
                ("getcontentlength", "<D:getcontentlength>\(size)</D:getcontentlength>"),
                ("getlastmodified", "<D:getlastmodified>\(httpDate(modified))</D:getlastmodified>"),
            ]
        case .missing:
            break
        }
        let deadSorted = dead.sorted { ($0.key.namespace, $0.key.name) < ($1.key.namespace, $1.key.name) }
        var found: [String] = []
        var missing: [String] = []
        switch wanted {
        case .allprop:
            found = live.map(\.1) + deadSorted.map { PropertyXML.element($0.key, value: $0.value) }
        case .propname:
            found = live.map { "<D:\($0.0)/>" } + deadSorted.map { PropertyXML.element($0.key, value: nil) }
        case .prop(let names):
            for name in names {
                if name.namespace == "DAV:", let value = live.first(where: { $0.0 == name.name }) {
                    found.append(value.1)
                } else if let value = dead[name] {
                    found.append(PropertyXML.element(name, value: value))
                } else {
                    missing.append(PropertyXML.element(name, value: nil))
                }
            }
        }
        let href = xmlEscape(path.href(collection: isCollection(kind)))
        var body = "<D:response><D:href>\(href)</D:href>"
        if !found.isEmpty || missing.isEmpty {
            body += "<D:propstat><D:prop>\(found.joined())</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>"
        }
        if !missing.isEmpty {
            body +=
                "<D:propstat><D:prop>\(missing.joined())</D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>"
        }
        return body + "</D:response>"
    }

    static func xmlEscape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }

    /// `bytes=a-b`, `bytes=a-`, `bytes=-n`; one range only.
    static func byteRange(_ header: String, size: Int64) -> Range<Int64>? {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let spec = header.dropFirst(6).split(separator: "-", omittingEmptySubsequences: false)
        guard spec.count == 2 else { return nil }
        if spec[0].isEmpty {
            guard let suffix = Int64(spec[1]), suffix > 0, size > 0 else { return nil }
            return max(0, size - suffix)..<size
        }
        guard let start = Int64(spec[0]), start < size else { return nil }
        let end = spec[1].isEmpty ? size - 1 : min(Int64(spec[1]) ?? -1, size - 1)
        guard end >= start else { return nil }
        return start..<(end + 1)
    }

    /// `https://host:port/dav/a/b` or `/dav/a/b` → `/a/b` (still percent-encoded).
    static func davPath(fromDestination header: String) -> String? {
        var path = header
        if let scheme = header.range(of: "://") {
            guard let slash = header[scheme.upperBound...].firstIndex(of: "/") else { return nil }
            path = String(header[slash...])
        }
        guard path == "/dav" || path.hasPrefix("/dav/") else { return nil }
        return String(path.dropFirst(4))
    }
}

/// WebDAV clients send Basic credentials with every request, and a scrypt check costs ~0.1 s: a
/// verified header is remembered (as its SHA-256, never in clear) for 60 s, so a password change or a
/// disabled admin takes effect within a minute.
final class BasicCredentialCache: Sendable {
    private let entries = Mutex<[String: Date]>([:])
    private let lifetime: TimeInterval = 60

    func isValid(_ header: String) -> Bool {
        let key = BearerToken.hash(header)
        return entries.withLock { ($0[key] ?? .distantPast) > Date() }
    }

    func remember(_ header: String) {
        let key = BearerToken.hash(header)
        entries.withLock { entries in
            let now = Date()
            if entries.count > 256 { entries = entries.filter { $0.value > now } }
            entries[key] = now.addingTimeInterval(lifetime)
        }
    }
}
