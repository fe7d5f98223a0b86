import CollectorCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TestSupport
import TestTraits
import Testing
import WebDAV

/// Catalogued segments in the built-in store are write-once, for their agent and for admins, and
/// every store write is audited.
@Suite(.serialized, .realTime)
struct EvidenceLockTests {
    @Test(arguments: Backend.allCases)
    func cataloguedSegmentsCannotBeOverwrittenMovedOrDeleted(_ backend: Backend) async throws {
        try await withAPI(backend) { api, collector, password in
            try await api.logIn(password)
            let adminToken = api.token!
            let agent = SimulatedAgent(id: "ws-evidence", nodePath: "/")
            let agentToken = try await agent.enrol(with: collector, actor: adminActor)
            let segment = try agent.nextSegment()
            try agent.upload(segment, to: collector)
            let enrolled = try await collector.agents.get(agent.id)
            _ = try await collector.acceptManifest(segment.manifestBytes, from: enrolled, source: "127.0.0.1")

            let directory = "/dav/" + segment.objectPath.dropLast().joined(separator: "/")
            let file = "/dav/" + segment.objectPath.joined(separator: "/")
            let manifest = String(file.dropLast(".webm.p7m".count)) + ".json"
            func send(_ method: String, _ uri: String, token: String, headers: HTTPFields = [:], body: String? = nil)
                async throws -> (Int, String)
            {
                var fields = headers
                fields[.authorization] = "Bearer \(token)"
                return try await api.client.execute(
                    uri: uri, method: .init(method)!, headers: fields, body: body.map { ByteBuffer(string: $0) }
                ) { (Int($0.status.code), String(buffer: $0.body)) }
            }
            for token in [agentToken, adminToken] {
                let overwrite = try await send("PUT", file, token: token, body: "forged")
                #expect(overwrite.0 == 403 && overwrite.1.contains("catalogued evidence"), "\(overwrite)")
                #expect(try await send("DELETE", file, token: token).0 == 403)
                #expect(try await send("DELETE", manifest, token: token).0 == 403)
                let moved = try await send(
                    "MOVE", file, token: token, headers: [.init("Destination")!: directory + "/renamed.webm.p7m"])
                #expect(moved.0 == 403, "\(moved)")
                // Uploading onto the name with Overwrite: T is an overwrite too.
                #expect(try await send("PUT", directory + "/new.bin", token: token, body: "x").0 == 201)
                let onto = try await send(
                    "MOVE", directory + "/new.bin", token: token,
                    headers: [.init("Destination")!: file, .init("Overwrite")!: "T"])
                #expect(onto.0 == 403, "\(onto)")
                #expect(try await send("DELETE", directory + "/new.bin", token: token).0 == 204)
            }
            #expect(
                try await send("DELETE", directory + "/", token: adminToken).0 == 403, "a collection holding evidence")
            #expect(
                try await send("DELETE", directory + "/", token: agentToken).0 == 403, "agents delete no collections")
            let stored = try collector.builtinStore().url(StorePath(components: segment.objectPath))
            #expect(try Data(contentsOf: stored) == segment.sealed, "the segment is untouched")

            let audit = try await AuditLog.entries(limit: 100, in: collector.catalog.sql).map(\.action)
            for action in ["store.put", "store.delete", "store.refused"] { #expect(audit.contains(action), "\(action) audited") }
        }
    }

    /// A Depth 1 listing above an agent's own area shows only the way to it: no other node path, no
    /// other agent's directory.
    @Test func agentsSeeOnlyTheWayToTheirOwnArea() async throws {
        try await withAPI { api, collector, password in
            try await api.logIn(password)
            _ = try await collector.nodePaths.create(NodePathInput(path: "/sales", storage: "builtin"), by: adminActor)
            let agent = SimulatedAgent(id: "ws-looking", nodePath: "/sales")
            let other = SimulatedAgent(id: "ws-neighbour", nodePath: "/sales")
            let token = try await agent.enrol(with: collector, actor: adminActor)
            _ = try await other.enrol(with: collector, actor: adminActor)
            let own = try agent.nextSegment()
            try agent.upload(own, to: collector)
            try other.upload(try other.nextSegment(), to: collector)
            #expect(try await api.send(.init("MKCOL")!, "/dav/secret/").status == 201)
            func listing(_ uri: String) async throws -> (Int, String) {
                try await api.client.execute(
                    uri: uri, method: .init("PROPFIND")!,
                    headers: [.authorization: "Bearer \(token)", .init("Depth")!: "1"]
                ) { (Int($0.status.code), String(buffer: $0.body)) }
            }
            let root = try await listing("/dav/")
            #expect(root.0 == 207 && root.1.contains("/dav/sales/") && !root.1.contains("secret"), "\(root)")
            let day = "/dav/" + own.objectPath.prefix(4).joined(separator: "/") + "/"
            let members = try await listing(day)
            #expect(members.0 == 207 && members.1.contains("ws-looking"), "\(members)")
            #expect(!members.1.contains("ws-neighbour"), "another agent's directory is not listed: \(members.1)")
        }
    }

    /// A day's sealed voice is evidence too: an admin cannot delete, overwrite or move it, nor the
    /// folder that holds it. And a password changed stops the old one at once for WebDAV Basic.
    @Test func sealedVoiceIsWriteOnceAndBasicCredentialsFollowThePassword() async throws {
        try await withAPI { api, collector, password in
            try await api.logIn(password)
            _ = try await collector.integrations.create(name: "pbx", kind: .webhook, by: adminActor)
            let record = try await collector.ingestVoice(
                try TimelineTests.speech(), contentType: "audio/wav",
                metadata: VoiceMetadata(interactionId: "call-v", legId: "l", startedAt: "2026-12-01T10:00:00.000Z"),
                integration: "pbx", deliveredBy: "put"
            ).record
            let file = "/dav/" + record.objectPath
            let folder = String(file[..<file.lastIndex(of: "/")!]) + "/"
            func send(_ method: String, _ uri: String, _ authorization: String, headers: HTTPFields = [:]) async throws -> (Int, String) {
                var fields = headers
                fields[.authorization] = authorization
                let body = method == "PUT" ? ByteBuffer(string: "x") : nil
                return try await api.client.execute(uri: uri, method: .init(method)!, headers: fields, body: body) {
                    (Int($0.status.code), String(buffer: $0.body))
                }
            }
            let bearer = "Bearer \(api.token!)"
            for (method, uri, headers) in [
                ("DELETE", file, HTTPFields()), ("PUT", file, HTTPFields()), ("DELETE", folder, HTTPFields()),
                ("MOVE", file, HTTPFields([HTTPField(name: .init("Destination")!, value: folder + "elsewhere.p7m")])),
            ] {
                let answer = try await send(method, uri, bearer, headers: headers)
                #expect(answer.0 == 403 && answer.1.contains("catalogued evidence"), "\(method) \(uri): \(answer)")
            }
            let stored = try collector.builtinStore().url(StorePath(components: record.objectPath.split(separator: "/").map(String.init)))
            #expect(FileManager.default.fileExists(atPath: stored.path), "the voice is still there")

            // Basic with the password, remembered; then the password changes: the old one is refused at once.
            let old = "Basic " + Data("admin:\(password)".utf8).base64EncodedString()
            #expect(try await send("PROPFIND", "/dav/", old, headers: [.init("Depth")!: "0"]).0 == 207)
            #expect(try await send("PROPFIND", "/dav/", old, headers: [.init("Depth")!: "0"]).0 == 207)
            try await collector.users.setPassword(username: "admin", password: "a new password for admin", by: adminActor)
            #expect(try await send("PROPFIND", "/dav/", old, headers: [.init("Depth")!: "0"]).0 == 401)
        }
    }
}
