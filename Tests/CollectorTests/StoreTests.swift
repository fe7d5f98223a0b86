import CollectorCore
import Foundation
import HummingbirdTesting
import Testing

/// The built-in store's edges that litmus does not try: symlinks, traversal, ranges, overwrite rules.
@Suite(.serialized)
struct StoreTests {
    @Test func pathsNeverLeaveTheStore() async throws {
        try await AdminAPITests().withAPI { api, collector, password in
            try await api.logIn(password)
            let root = collector.dataDirectory.appendingPathComponent("store")
            try FileManager.default.createSymbolicLink(
                atPath: root.appendingPathComponent("etc").path, withDestinationPath: "/etc")
            #expect(try await api.send(.get, "/dav/etc/hostname").status == 403, "symlinks are not followed")
            #expect(try await api.send(.init("PROPFIND")!, "/dav/etc/").status == 403)
            for attempt in [
                "/dav/%2e%2e/%2e%2e/etc/passwd", "/dav/a/..%2f..%2fetc", "/dav/%2Fetc%2Fpasswd", "/dav/a%00b",
            ] {
                let reply = try await api.send(.get, attempt)
                #expect(reply.status == 403 || reply.status == 404, "\(attempt): \(reply.status)")
                #expect(reply.status != 200)
            }
            let escape = try await api.send(.put, "/dav/%2e%2e/escaped.txt", json: "x")
            #expect(escape.status == 403)
            #expect(
                !FileManager.default.fileExists(
                    atPath: collector.dataDirectory.appendingPathComponent("escaped.txt").path))
        }
    }

    @Test func rangesOverwriteAndMissingParents() async throws {
        try await AdminAPITests().withAPI { api, _, password in
            try await api.logIn(password)
            #expect(try await api.send(.put, "/dav/nowhere/x.txt", json: "hello").status == 409, "parent missing")
            #expect(try await api.send(.init("MKCOL")!, "/dav/a/").status == 201)
            #expect(try await api.send(.put, "/dav/a/x.txt", json: "0123456789").status == 201)
            #expect(try await api.send(.put, "/dav/a/x.txt", json: "0123456789").status == 204, "overwrite")
            let ranged = try await api.client.execute(
                uri: "/dav/a/x.txt", method: .get,
                headers: [.authorization: "Bearer \(api.token!)", .range: "bytes=2-4"]
            ) { ($0.status.code, String(buffer: $0.body), $0.headers[.contentRange]) }
            #expect(ranged.0 == 206 && ranged.1 == "234" && ranged.2 == "bytes 2-4/10")
            let unsatisfiable = try await api.client.execute(
                uri: "/dav/a/x.txt", method: .get,
                headers: [.authorization: "Bearer \(api.token!)", .range: "bytes=20-"]
            ) { $0.status.code }
            #expect(unsatisfiable == 416)
            #expect(try await api.send(.put, "/dav/a/y.txt", json: "other").status == 201)
            let refused = try await api.client.execute(
                uri: "/dav/a/x.txt", method: .init("MOVE")!,
                headers: [
                    .authorization: "Bearer \(api.token!)", .init("Destination")!: "/dav/a/y.txt",
                    .init("Overwrite")!: "F",
                ]
            ) { $0.status.code }
            #expect(refused == 412)
            let infinite = try await api.client.execute(
                uri: "/dav/a/", method: .init("PROPFIND")!,
                headers: [.authorization: "Bearer \(api.token!)", .init("Depth")!: "infinity"]
            ) { $0.status.code }
            #expect(infinite == 403)
            #expect(try await api.send(.delete, "/dav/").status == 403, "the root stays")
        }
    }
}
