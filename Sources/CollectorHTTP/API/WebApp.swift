import CollectorCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The web app's files (`Sources/CollectorHTTP/Web`): one page and its modules, read once at start
/// and served from memory. Only the names listed are served: nothing else of the bundle, no path
/// from the request ever reaches the file system. The pages may load only from this collector
/// (Content-Security-Policy), may not be framed, and send no referrer.
struct WebApp {
    static let files: [String: String] = [
        "index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
        "api.js": "text/javascript; charset=utf-8", "dom.js": "text/javascript; charset=utf-8",
        "player.js": "text/javascript; charset=utf-8", "review.js": "text/javascript; charset=utf-8",
        "admin.js": "text/javascript; charset=utf-8",
        "style.css": "text/css; charset=utf-8",
    ]
    static let securityHeaders: HTTPFields = [
        HTTPField.Name("Content-Security-Policy")!:
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        HTTPField.Name("X-Frame-Options")!: "DENY", HTTPField.Name("Referrer-Policy")!: "no-referrer",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff", .cacheControl: "no-cache",
    ]

    let contents: [String: ByteBuffer]

    init() throws {
        guard let directory = Bundle.module.url(forResource: "Web", withExtension: nil) else {
            throw CollectorError(.notFound, "the web app's files are missing from this build (CollectorHTTP's Web resources)")
        }
        var contents: [String: ByteBuffer] = [:]
        for name in Self.files.keys {
            let data = try Data(contentsOf: directory.appendingPathComponent(name))
            contents[name] = ByteBuffer(bytes: data)
        }
        self.contents = contents
    }

    func register(on router: Router<CollectorContext>) {
        router.get("/") { _, _ in Response(status: .found, headers: [.location: "/app/"]) }
        // `/app` and `/app/` are one route to the router.
        router.get("app") { _, _ in serve("index.html") }
        router.get("app/:file") { _, context in serve(try context.parameters.require("file")) }
    }

    func serve(_ name: String) -> Response {
        guard let type = Self.files[name], let body = contents[name] else {
            return Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "not found\n")))
        }
        var headers = Self.securityHeaders
        headers[.contentType] = type
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }
}
