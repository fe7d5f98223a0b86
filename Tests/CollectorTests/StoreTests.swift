import CollectorCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TestTraits
import Testing

/// The built-in store's edges that litmus does not try: symlinks, traversal, ranges, overwrite rules.
@Suite(.serialized, .realTime)
struct StoreTests {
    @Test func pathsNeverLeaveTheStore() async throws {
        try await withAPI { api, collector, password in
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
        try await withAPI { api, _, password in
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
            // RFC 9110 §14.2: what the server does not serve as one range gets the whole file.
            for (range, ifRange) in [
                ("bytes=0-1,4-5", nil), ("bytes=x-3", nil), ("items=0-3", nil), ("bytes=5-3", nil),
                ("bytes=2-4", "\"an-etag\""), ("bytes=2-4", "Thu, 01 Jan 1970 00:00:00 GMT"),
            ] as [(String, String?)] {
                var headers: HTTPFields = [.authorization: "Bearer \(api.token!)", .range: range]
                if let ifRange { headers[.ifRange] = ifRange }
                let whole = try await api.client.execute(uri: "/dav/a/x.txt", method: .get, headers: headers) {
                    ($0.status.code, String(buffer: $0.body))
                }
                #expect(whole.0 == 200 && whole.1 == "0123456789", "\(range) If-Range: \(ifRange ?? "-")")
            }
            let modified = try await api.client.execute(
                uri: "/dav/a/x.txt", method: .head, headers: [.authorization: "Bearer \(api.token!)"]
            ) { $0.headers[.lastModified] }
            let current = try await api.client.execute(
                uri: "/dav/a/x.txt", method: .get,
                headers: [.authorization: "Bearer \(api.token!)", .range: "bytes=-3", .ifRange: modified ?? ""]
            ) { ($0.status.code, String(buffer: $0.body)) }
            #expect(current.0 == 206 && current.1 == "789", "If-Range equal to Last-Modified keeps the range")
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

    /// Dead properties on both catalogs: values come back exactly (namespaces, markup, characters
    /// beyond the BMP), follow a collection's MOVE and COPY with everything under it, vanish with
    /// DELETE, and a request touching a live property changes nothing.
    @Test(arguments: Backend.allCases)
    func deadPropertiesFollowTheirResources(_ backend: Backend) async throws {
        try await withAPI(backend) { api, _, password in
            try await api.logIn(password)
            func send(_ method: String, _ uri: String, _ body: String = "", headers: HTTPFields = [:]) async throws
                -> (Int, String)
            {
                var fields = headers
                fields[.authorization] = "Bearer \(api.token!)"
                return try await api.client.execute(
                    uri: uri, method: .init(method)!, headers: fields, body: ByteBuffer(string: body)
                ) { (Int($0.status.code), String(buffer: $0.body)) }
            }
            #expect(try await send("MKCOL", "/dav/case/").0 == 201)
            #expect(try await send("MKCOL", "/dav/case/inner/").0 == 201)
            #expect(try await send("PUT", "/dav/case/inner/note.txt", "x").0 == 201)
            let value = #"<q:quality xmlns:q="urn:qa">score &amp; <q:b>9</q:b> 😀</q:quality>"#
            // Stored and returned with each element declaring its own namespace.
            let returned = #"<ns:quality xmlns:ns="urn:qa">score &amp; <ns:b xmlns:ns="urn:qa">9</ns:b> 😀</ns:quality>"#
            let patch = """
                <?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:R="urn:recorder">
                <D:set><D:prop><R:reviewer>Ana</R:reviewer><R:verdict>\(value)</R:verdict><plain xmlns="">1</plain></D:prop></D:set>
                <D:remove><D:prop><R:never-set/></D:prop></D:remove></D:propertyupdate>
                """
            let patched = try await send("PROPPATCH", "/dav/case/inner/note.txt", patch)
            #expect(patched.0 == 207 && patched.1.contains("200 OK"), "\(patched)")

            let ask = """
                <D:propfind xmlns:D="DAV:" xmlns:R="urn:recorder"><D:prop><R:reviewer/><R:verdict/><R:absent/><D:getcontentlength/></D:prop></D:propfind>
                """
            func properties(_ uri: String) async throws -> String {
                return try await send("PROPFIND", uri, ask, headers: [.init("Depth")!: "0"]).1
            }
            let before = try await properties("/dav/case/inner/note.txt")
            #expect(before.contains(">Ana</ns:reviewer>") && before.contains(returned), "\(before)")
            #expect(
                before.contains("<ns:absent xmlns:ns=\"urn:recorder\"/></D:prop><D:status>HTTP/1.1 404"), "\(before)")
            #expect(before.contains("<D:getcontentlength>1</D:getcontentlength>"), "\(before)")

            // A Depth 1 listing (here of the store's root) shows each member's own dead properties.
            let tag = """
                <D:propertyupdate xmlns:D="DAV:" xmlns:R="urn:recorder"><D:set><D:prop><R:site>Lyon</R:site></D:prop></D:set></D:propertyupdate>
                """
            #expect(try await send("PROPPATCH", "/dav/case/", tag).0 == 207)
            let listing = try await send("PROPFIND", "/dav/", headers: [.init("Depth")!: "1"]).1
            #expect(listing.contains(">Lyon</ns:site>") && !listing.contains("Ana"), "\(listing)")

            let moved = try await send("MOVE", "/dav/case/", headers: [.init("Destination")!: "/dav/archive/"])
            #expect(moved.0 == 201)
            #expect(try await properties("/dav/archive/inner/note.txt").contains(">Ana</ns:reviewer>"))
            #expect(try await send("PROPFIND", "/dav/case/inner/note.txt", headers: [.init("Depth")!: "0"]).0 == 404)
            #expect(try await send("COPY", "/dav/archive/", headers: [.init("Destination")!: "/dav/copy/"]).0 == 201)
            #expect(try await properties("/dav/copy/inner/note.txt").contains(returned))
            #expect(try await send("DELETE", "/dav/archive/").0 == 204)
            #expect(try await send("MKCOL", "/dav/archive/").0 == 201)
            #expect(try await send("MKCOL", "/dav/archive/inner/").0 == 201)
            #expect(try await send("PUT", "/dav/archive/inner/note.txt", "y").0 == 201)
            #expect(
                !(try await properties("/dav/archive/inner/note.txt")).contains("Ana"),
                "a new resource under an old name starts without the old one's properties")

            let live = """
                <D:propertyupdate xmlns:D="DAV:" xmlns:R="urn:recorder"><D:set><D:prop><R:reviewer>Bo</R:reviewer><D:getcontentlength>9</D:getcontentlength></D:prop></D:set></D:propertyupdate>
                """
            let refused = try await send("PROPPATCH", "/dav/copy/inner/note.txt", live)
            #expect(
                refused.0 == 207 && refused.1.contains("403 Forbidden") && refused.1.contains("424 Failed Dependency"))
            #expect(try await properties("/dav/copy/inner/note.txt").contains(">Ana</ns:reviewer>"), "all or nothing")
            let malformed = try await send(
                "PROPPATCH", "/dav/copy/inner/note.txt", "<D:propertyupdate xmlns:D=\"DAV:\">")
            #expect(malformed.0 == 400)
        }
    }

    /// A node path's quota bounds what the built-in store holds under it: a write that would pass it
    /// is a 507 naming the node path and what to do, an overwrite counts only its growth, a move inside
    /// the directory costs nothing, and deleting frees room at once.
    @Test func nodePathQuotasAnswer507() async throws {
        try await withAPI { api, collector, password in
            try await api.logIn(password)
            let made = try await api.send(
                .post, "/api/v1/admin/node-paths", json: #"{"path":"/q","storage":"builtin","quota_mb":1}"#)
            #expect(made.status == 201 && made.json["quota_mb"] as? Int == 1, "\(made.json)")
            let external = try await api.send(
                .post, "/api/v1/admin/storage-targets",
                json: #"{"name":"ext","kind":"webdav","url":"https://dav.example/r","auth":"none"}"#)
            #expect(external.status == 201)
            let refused = try await api.send(
                .post, "/api/v1/admin/node-paths", json: #"{"path":"/x","storage":"ext","quota_mb":5}"#)
            #expect(refused.status == 400 && refused.errorMessage.contains("enforces its own quota"))

            func put(_ uri: String, kilobytes: Int) async throws -> Reply {
                try await api.send(.put, uri, raw: ByteBuffer(repeating: 0x61, count: kilobytes * 1024))
            }
            for collection in ["/dav/q/", "/dav/q/a/", "/dav/other/"] {
                #expect(try await api.send(.init("MKCOL")!, collection).status == 201)
            }
            #expect(try await put("/dav/q/a/one.bin", kilobytes: 600).status == 201)
            let over = try await put("/dav/q/a/two.bin", kilobytes: 600)
            #expect(over.status == 507 && over.errorCode == "quota_exceeded", "\(over.json)")
            #expect(
                over.errorMessage.contains("node path /q is at its quota: 0.6 of 1.0 MB used"), "\(over.errorMessage)")
            #expect(
                !FileManager.default.fileExists(
                    atPath: collector.dataDirectory.appendingPathComponent("store/q/a/two.bin").path),
                "nothing half-written")
            #expect(try await put("/dav/q/a/one.bin", kilobytes: 900).status == 204, "an overwrite counts its growth")
            #expect(try await put("/dav/other/big.bin", kilobytes: 900).status == 201, "outside /q: no quota")

            func transfer(_ method: String, _ from: String, _ to: String) async throws -> Int {
                try await api.client.execute(
                    uri: from, method: .init(method)!,
                    headers: [.authorization: "Bearer \(api.token!)", .init("Destination")!: to]
                ) { Int($0.status.code) }
            }
            #expect(try await transfer("COPY", "/dav/q/a/one.bin", "/dav/q/a/copy.bin") == 507)
            #expect(try await transfer("MOVE", "/dav/other/big.bin", "/dav/q/a/big.bin") == 507)
            #expect(try await transfer("MOVE", "/dav/q/a/one.bin", "/dav/q/moved.bin") == 201, "inside /q: free")
            #expect(try await api.send(.delete, "/dav/q/moved.bin").status == 204)
            #expect(try await transfer("MOVE", "/dav/other/big.bin", "/dav/q/a/big.bin") == 201, "room again")

            let cleared = try await api.send(.put, "/api/v1/admin/node-paths/q", json: #"{"quota_mb":0}"#)
            #expect(cleared.status == 200 && cleared.json["quota_mb"] == nil, "\(cleared.json)")
            #expect(try await put("/dav/q/a/two.bin", kilobytes: 600).status == 201)
        }
    }
}
