import CollectorCore
import Foundation
import Hummingbird
import RecorderCore
import WebDAV

/// `/dav/...`: the built-in store over the WebDAV subset agents and admins use (RFC 4918 class 1):
/// OPTIONS, PROPFIND (depth 0 and 1; allprop, prop, propname), PROPPATCH (dead properties, kept in the
/// catalog), MKCOL, PUT, GET/HEAD (with a byte range, streamed), DELETE, MOVE, COPY. Admins (session
/// token, or HTTP Basic with their password) see everything; an agent (its token) writes only under
/// `{its node path}/{yyyy}/{mm}/{dd}/{its id}/` (`StoreScope`). Catalogued evidence is write-once
/// (`EvidenceLock`), and every write and delete is audited.
///
/// The methods live in `StoreAPI+Read`, `StoreAPI+Write` and `StoreAPI+Transfer`; quotas in `StoreQuota`.
public struct StoreAPI: Sendable {
    let collector: Collector
    let store: BuiltinStore
    let credentials: StoreCredentials
    let usage: StoreUsage
    let quota: StoreQuota
    let evidence: EvidenceLock
    static let maxFileBytes: Int64 = 1 << 30
    /// PROPFIND and PROPPATCH bodies; WebDAV clients send a few hundred bytes.
    static let maxXMLBytes = 256 * 1024
    var properties: DeadProperties { DeadProperties(catalog: collector.catalog) }

    public init(collector: Collector, store: BuiltinStore, guards: AuthenticationGuards) {
        self.collector = collector
        self.store = store
        credentials = StoreCredentials(collector: collector, guards: guards)
        usage = StoreUsage(store: store, catalog: collector.catalog)
        quota = StoreQuota(collector: collector, usage: usage)
        evidence = EvidenceLock(collector: collector, store: store)
    }

    /// The methods `handle` serves, for the HTTP layer's routes.
    public static let methods: [HTTPRequest.Method] = [
        .options, .get, .head, .put, .delete, .init("PROPFIND")!, .init("PROPPATCH")!, .init("MKCOL")!,
        .init("MOVE")!, .init("COPY")!,
    ]

    enum Access: Equatable {
        case admin(username: String)
        case agent(Agents.Agent)
        /// A phone system dropping voice recordings into its own area (`docs/VOICE.md`, "Drop").
        case integration(Integrations.Integration)

        var isAdmin: Bool { if case .admin = self { true } else { false } }

        func actor(source: String) -> Actor {
            switch self {
            case .admin(let username): Actor(name: "user:\(username)", source: source)
            case .agent(let agent): Actor(name: "agent:\(agent.id)", source: source)
            case .integration(let integration): Actor(name: "integration:\(integration.name)", source: source)
            }
        }
    }

    /// One request under `/dav`, from the client at `source`, answered at its `pace`. Refusals are `StoreError`s (and the
    /// domain's `CollectorError`s, e.g. a throttled login), which the HTTP layer turns into answers.
    public func handle(_ request: Request, source: String, pace: ConnectionPace = ConnectionPace(nil)) async throws -> Response {
        let access = try await credentials.authenticate(request, source: source)
        let raw = String(request.uri.path.dropFirst("/dav".count))
        let path = try StorePath(parsing: raw)
        try StoreScope.checkNames(path, access: access)
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
        try StoreScope.authorize(
            access, path, write: writes && method != "MKCOL", ancestorsAllowed: !writes || method == "MKCOL")
        let actor = access.actor(source: source)
        switch method {
        case "GET", "HEAD": return try await get(request, path, headOnly: method == "HEAD", pace: pace)
        case "PUT": return try await put(request, path, actor: actor)
        case "MKCOL": return try await mkcol(request, path, actor: actor)
        case "DELETE": return try await delete(path, access: access, actor: actor)
        case "MOVE", "COPY":
            return try await transfer(request, path, access: access, actor: actor, move: method == "MOVE")
        case "PROPFIND": return try await propfind(request, path, access: access)
        case "PROPPATCH":
            // Agents never set properties; refusing them keeps their area free of catalog rows a
            // Depth 1 PROPFIND of an ancestor would have to read.
            if case .agent = access { throw CollectorError(.forbidden, "agents may not set WebDAV properties") }
            if case .integration = access {
                throw CollectorError(.forbidden, "integrations may not set WebDAV properties")
            }
            return try await proppatch(request, path, actor: actor)
        default: throw HTTPError(.methodNotAllowed)
        }
    }

    /// One audit entry per store write or delete, with the path as the target.
    func audit(_ action: String, _ path: StorePath, _ detail: String = "", by actor: Actor) async throws {
        try await AuditLog.record(
            "store.\(action)", target: "store:\(path)", detail: detail, by: actor, in: collector.catalog)
    }

    /// Collects a PROPFIND/PROPPATCH body, refusing a larger one by its Content-Length before reading.
    func xmlBody(_ request: Request, method: String) async throws -> Data {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > StoreAPI.maxXMLBytes {
            throw CollectorError(.tooLarge, "a \(method) body is at most \(StoreAPI.maxXMLBytes) bytes")
        }
        do {
            return Data(buffer: try await request.body.collect(upTo: StoreAPI.maxXMLBytes))
        } catch {
            throw CollectorError(.tooLarge, "a \(method) body is at most \(StoreAPI.maxXMLBytes) bytes")
        }
    }
}
