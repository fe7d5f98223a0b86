import CollectorCore
import Foundation
import Hummingbird
import RecorderCore

/// `/api/v1/auth/...` (log in and out) and `/api/v1/admin/...` (storage targets, node paths, users,
/// audit), all JSON. Admin routes need `Authorization: Bearer <session token>` from a login.
struct AdminAPI {
    let collector: Collector
    let guards: AuthenticationGuards

    func register(on router: Router<CollectorContext>) {
        let auth = router.group("api/v1/auth")
        auth.post("login", use: logIn)
        auth.post("logout", use: logOut)

        let admin = router.group("api/v1/admin").add(middleware: SessionAuthentication(collector: collector))
        admin.get("me") { _, context in context.user! }
        WebSessionAPI(collector: collector, guards: guards).register(on: router)

        admin.get("storage-targets") { _, _ in Items(items: try await collector.storageTargets.list()) }
        admin.post("storage-targets") { request, context in
            let input = try await request.decodeStrict(StorageTargetInput.self, context: context)
            return EditedResponse(
                status: .created, response: try await collector.storageTargets.create(input, by: context.actor))
        }
        admin.get("storage-targets/:name") { _, context in
            try await collector.storageTargets.get(try context.parameters.require("name"))
        }
        admin.put("storage-targets/:name") { request, context in
            let input = try await request.decodeStrict(StorageTargetInput.self, context: context)
            return try await collector.storageTargets.update(
                try context.parameters.require("name"), input, by: context.actor)
        }
        // Probes the target with its own credentials; 200 with the per-step report either way.
        admin.post("storage-targets/:name/test") { _, context in
            try await collector.testStorage(named: try context.parameters.require("name"), by: context.actor)
        }
        admin.delete("storage-targets/:name") { _, context in
            try await collector.storageTargets.delete(try context.parameters.require("name"), by: context.actor)
            return HTTPResponse.Status.noContent
        }

        admin.get("node-paths") { _, _ in Items(items: try await collector.nodePaths.list()) }
        admin.post("node-paths") { request, context in
            let input = try await request.decodeStrict(NodePathInput.self, context: context)
            return EditedResponse(
                status: .created, response: try await collector.nodePaths.create(input, by: context.actor))
        }
        // The longest configured prefix for an agent's node path: what its uploads would use.
        admin.get("node-path-resolution") { request, _ in
            guard let path = request.uri.queryParameters["path"].map(String.init) else {
                throw CollectorError(.invalid, "query parameter path is required, e.g. ?path=/emea/paris/sales")
            }
            guard let record = try await collector.nodePaths.resolve(path) else {
                throw CollectorError(.notFound, "no node path covers \(path) (add one for / to catch everything)")
            }
            return Resolution(
                path: path, nodePath: record, storage: try await collector.storageTargets.get(record.storage))
        }
        // The recording rules an agent at a node path gets, and which node path set each of them.
        admin.get("recording-rules") { request, _ in
            guard let path = request.uri.queryParameters["path"].map(String.init) else {
                throw CollectorError(.invalid, "query parameter path is required, e.g. ?path=/emea/paris/sales")
            }
            return try await collector.nodePaths.rules(for: path)
        }
        // Node paths contain slashes: /api/v1/admin/node-paths/emea/paris addresses /emea/paris.
        admin.get("node-paths/**") { _, context in try await collector.nodePaths.get(Self.nodePath(context)) }
        admin.put("node-paths/**") { request, context in
            let input = try await request.decodeStrict(NodePathInput.self, context: context)
            return try await collector.nodePaths.update(Self.nodePath(context), input, by: context.actor)
        }
        admin.delete("node-paths/**") { _, context in
            try await collector.nodePaths.delete(Self.nodePath(context), by: context.actor)
            return HTTPResponse.Status.noContent
        }

        admin.get("users") { _, _ in Items(items: try await collector.users.list()) }
        admin.post("users") { request, context in
            let input = try await request.decodeStrict(NewUser.self, context: context)
            return EditedResponse(
                status: .created,
                response: try await collector.users.create(
                    username: input.username, password: input.password,
                    profile: .init(role: input.role ?? .admin, scopes: input.scopes, workstation: input.workstation),
                    by: context.actor))
        }
        admin.patch("users/:username") { request, context in
            let profile = try await request.decodeStrict(Users.Profile.self, context: context)
            return try await collector.users.update(
                username: try context.parameters.require("username"), profile, by: context.actor)
        }
        admin.put("users/:username/password") { request, context in
            let input = try await request.decodeStrict(NewPassword.self, context: context)
            try await collector.users.setPassword(
                username: try context.parameters.require("username"), password: input.password, by: context.actor)
            return HTTPResponse.Status.noContent
        }
        // Recording keys: the certificates agents seal for. A new one is added beside the others;
        // retiring one stops new sealing for it (what it sealed still opens).
        admin.get("recording-keys") { _, _ in Items(items: try await collector.recordingKeys.list()) }
        admin.post("recording-keys") { _, context in
            EditedResponse(status: .created, response: try await collector.recordingKeys.add(by: context.actor))
        }
        admin.post("recording-keys/:id/retire") { _, context in
            try await collector.recordingKeys.retire(try context.parameters.require("id"), by: context.actor)
            return HTTPResponse.Status.noContent
        }
        admin.get("audit") { request, _ in
            let limit = min(max(Int(request.uri.queryParameters["limit"].map(String.init) ?? "") ?? 100, 1), 1000)
            let before = request.uri.queryParameters["before"].flatMap { Int(String($0)) }
            return Items(items: try await AuditLog.entries(limit: limit, before: before, in: collector.catalog.sql))
        }
        // Walks the whole chain: a read, but one that is recorded (and signs the head when intact).
        admin.post("audit/verify") { _, context in
            try await collector.verifyAudit(by: context.actor)
        }
    }

    static func nodePath(_ context: CollectorContext) throws -> String {
        let components = context.parameters.getCatchAll()
        return "/" + components.map { $0.removingPercentEncoding ?? String($0) }.joined(separator: "/")
    }

    @Sendable func logIn(request: Request, context: CollectorContext) async throws -> LoginResponse {
        let credentials = try await request.decodeStrict(Credentials.self, context: context)
        let (token, user) = try await guards.logIn(credentials, source: context.remoteAddress, kind: .bearer)
        return LoginResponse(token: token, user: user, expiresInSeconds: Int(Users.sessionLifetime))
    }

    @Sendable func logOut(request: Request, context: CollectorContext) async throws -> HTTPResponse.Status {
        if let token = SessionAuthentication.bearerToken(request) {
            try await collector.users.logOut(sessionToken: token)
        }
        return .noContent
    }
}

struct Items<Item: Encodable & Sendable>: ResponseEncodable, Sendable {
    var items: [Item]
}

struct Resolution: ResponseEncodable, Sendable {
    var path: String
    var nodePath: NodePathRecord
    var storage: StorageTargetRecord

    enum CodingKeys: String, CodingKey {
        case path
        case nodePath = "node_path"
        case storage
    }
}

struct Credentials: Decodable {
    var username: String
    var password: String
}

struct NewUser: Decodable {
    var username: String
    var password: String
    /// admin when not given (what this call made before roles existed).
    var role: Users.Role?
    var scopes: [String]?
    var workstation: String?
}

extension AuthenticationGuards {
    /// Signs in through the throttle, for the API's bearer login and the web app's cookie alike: a
    /// refused address or name is 429 before the password is looked at, and a wrong password counts.
    func logIn(_ credentials: Credentials, source: String, kind: Users.SessionKind) async throws
        -> (token: String, user: Users.User)
    {
        let keys = AuthenticationGuards.keys(address: source, user: credentials.username)
        try await check(keys, what: "login")
        do {
            return try await collector.users.logIn(
                username: credentials.username, password: credentials.password, source: source, kind: kind)
        } catch let error as CollectorError where error.kind == .unauthorized {
            // logIn audited the failure itself; the throttle counts it.
            throttle.recordFailure(keys)
            throw error
        }
    }
}

struct NewPassword: Decodable {
    var password: String
}

struct LoginResponse: ResponseEncodable, Sendable {
    var token: String
    var user: Users.User
    var expiresInSeconds: Int

    enum CodingKeys: String, CodingKey {
        case token, user
        case expiresInSeconds = "expires_in_seconds"
    }
}

extension StorageTargetRecord: ResponseEncodable {}
extension NodePathRecord: ResponseEncodable {}
extension Users.User: ResponseEncodable {}
extension RecordingKeys.Key: ResponseEncodable {}

extension StorageProbeReport: ResponseEncodable {}

extension NodePaths.EffectiveRules: ResponseEncodable {}
extension AuditChain.Report: ResponseEncodable {}
