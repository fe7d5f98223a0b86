import CollectorCore
import CollectorHTTP
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import TestTraits
import Testing

/// The admin REST API through Hummingbird's router: authentication, JSON errors with precise
/// messages for bad input, and the node-path/storage operations admins use.
@Suite(.serialized, .realTime)
struct AdminAPITests {
    @Test func adminRoutesNeedAValidSession() async throws {
        try await withAPI { api, _, password in
            let anonymous = try await api.send(.get, "/api/v1/admin/node-paths")
            #expect(anonymous.status == 401 && anonymous.errorCode == "unauthorized")
            #expect(anonymous.errorMessage.contains("POST /api/v1/auth/login"))

            api.token = "rcs_forged"
            #expect(try await api.send(.get, "/api/v1/admin/node-paths").status == 401)

            let wrong = try await api.send(
                .post, "/api/v1/auth/login", json: #"{"username":"admin","password":"guess-guess-guess"}"#)
            #expect(wrong.status == 401 && wrong.errorMessage == "wrong username or password")

            try await api.logIn(password)
            let me = try await api.send(.get, "/api/v1/admin/me")
            #expect(me.status == 200 && me.json["username"] as? String == "admin")

            #expect(try await api.send(.post, "/api/v1/auth/logout").status == 204)
            #expect(try await api.send(.get, "/api/v1/admin/me").status == 401, "a logged-out token is dead at once")
        }
    }

    @Test(arguments: [
        (#"{"path": "/emea/paris", "storage": "builtin""#, 400, "not valid JSON"),
        (#"[1, 2]"#, 400, "the top level must be an object, found a list"),
        (#"{"path": 7, "storage": "builtin"}"#, 400, "path must be a string, found 7"),
        (#"{"path": "/emea", "storage": "builtin", "stroage": "x"}"#, 400, #"unknown key "stroage"; known keys here: "#),
        (#"{"path": "emea/paris", "storage": "builtin"}"#, 400, "it must start with /"),
        (#"{"path": "/emea/%2e%2e", "storage": "builtin"}"#, 400, "characters other than"),
        (#"{"path": "/emea/../etc", "storage": "builtin"}"#, 400, ".. is not allowed"),
        (#"{"path": "/emea", "storage": "nas-9"}"#, 400, #"storage target "nas-9" does not exist"#),
        (#"{"storage": "builtin"}"#, 400, "path is required"),
        (#"{"path": "/", "storage": "builtin"}"#, 409, "exists already"),
    ])
    func badNodePathsAreRefusedPrecisely(_ body: String, _ status: Int, _ message: String) async throws {
        try await withAPI { api, collector, password in
            try await api.logIn(password)
            let reply = try await api.send(.post, "/api/v1/admin/node-paths", json: body)
            #expect(reply.status == status, "\(reply.json)")
            #expect(reply.errorMessage.contains(message), "\(reply.errorMessage)")
            #expect(try await collector.nodePaths.list().map(\.path) == ["/"], "nothing half-written")
        }
    }

    @Test func oversizedBodiesAndUnknownRoutesAnswerJSON() async throws {
        try await withAPI { api, _, password in
            try await api.logIn(password)
            let huge =
                #"{"path": "/a", "storage": "builtin", "description": ""# + String(repeating: "x", count: 300_000)
                + #""}"#
            let tooLarge = try await api.send(.post, "/api/v1/admin/node-paths", json: huge)
            #expect(tooLarge.status == 413 && tooLarge.errorCode == "payload_too_large")
            let missing = try await api.send(.get, "/api/v1/admin/node-paths/emea/nowhere")
            #expect(missing.status == 404 && missing.errorMessage.contains("no node path \"/emea/nowhere\""))
            let unknownRoute = try await api.send(.get, "/api/v1/admin/nothing-here")
            #expect(unknownRoute.status == 404 && unknownRoute.errorCode == "not_found")
        }
    }

    @Test(arguments: Backend.allCases)
    func adminsConfigureStorageAndNodePathsAndEveryChangeIsAudited(_ backend: Backend) async throws {
        try await withAPI(backend) { api, _, password in
            try await api.logIn(password)
            let created = try await api.send(
                .post, "/api/v1/admin/storage-targets",
                json:
                    #"{"name":"paris-dav","url":"https://dav.paris.example/rec","auth":"digest","username":"ws","password":"dav-secret-1"}"#
            )
            #expect(created.status == 201, "\(created.json)")
            #expect(created.json["has_secret"] as? Bool == true && created.json["password"] == nil)

            let listed = try await api.send(.get, "/api/v1/admin/storage-targets")
            let text = String(describing: listed.json)
            #expect(!text.contains("dav-secret-1"), "secrets are never returned")

            #expect(
                try await api.send(
                    .post, "/api/v1/admin/node-paths", json: #"{"path":"/emea/paris","storage":"paris-dav"}"#
                ).status == 201)
            let resolved = try await api.send(.get, "/api/v1/admin/node-path-resolution?path=/emea/paris/sales")
            #expect((resolved.json["node_path"] as? [String: Any])?["path"] as? String == "/emea/paris")
            #expect((resolved.json["storage"] as? [String: Any])?["url"] as? String == "https://dav.paris.example/rec")

            let inUse = try await api.send(.delete, "/api/v1/admin/storage-targets/paris-dav")
            #expect(inUse.status == 409 && inUse.errorMessage.contains("/emea/paris"))
            let moved = try await api.send(.put, "/api/v1/admin/node-paths/emea/paris", json: #"{"storage":"builtin"}"#)
            #expect(moved.status == 200 && moved.json["storage"] as? String == "builtin")
            #expect(try await api.send(.delete, "/api/v1/admin/storage-targets/paris-dav").status == 204)
            #expect(try await api.send(.delete, "/api/v1/admin/node-paths/emea/paris").status == 204)

            let audit = try await api.send(.get, "/api/v1/admin/audit?limit=6")
            let entries = audit.json["items"] as? [[String: Any]] ?? []
            #expect(
                entries.map { $0["action"] as? String } == [
                    "node_path.delete", "storage.delete", "node_path.update", "node_path.create", "storage.create",
                    "user.login",
                ])
            #expect(entries.allSatisfy { ($0["actor"] as? String) == "user:admin" })
            #expect(!String(describing: audit.json).contains("dav-secret-1"))
            #expect(entries.allSatisfy { ($0["seq"] as? Int ?? 0) > 0 }, "each entry has its place in the chain")

            let verified = try await api.send(.post, "/api/v1/admin/audit/verify")
            #expect(verified.status == 200 && verified.json["ok"] as? Bool == true, "\(verified.json)")
            #expect((verified.json["entries"] as? Int ?? 0) >= 7 && verified.json["problem"] is NSNull)
        }
    }
}
