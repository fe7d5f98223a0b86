import CollectorCore
import CollectorHTTP
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging

// The collector's HTTP application through Hummingbird's test client, on a fresh collector with a
// first admin: the fixture every API suite shares.

/// One API answer: its status and JSON body.
struct Reply {
    let status: Int
    let json: [String: Any]
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    var errorMessage: String { (json["error"] as? [String: Any])?["message"] as? String ?? "" }
}

/// A client holding the session token after `logIn`.
final class Session: @unchecked Sendable {
    let client: any TestClientProtocol
    var token: String?
    init(_ client: any TestClientProtocol) { self.client = client }

    func send(_ method: HTTPRequest.Method, _ uri: String, json: String? = nil, raw: ByteBuffer? = nil)
        async throws -> Reply
    {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.execute(
            uri: uri, method: method, headers: headers, body: raw ?? json.map { ByteBuffer(string: $0) }
        ) { response in
            let data = Data(buffer: response.body)
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
            return Reply(status: Int(response.status.code), json: object)
        }
    }

    func logIn(_ password: String) async throws {
        let reply = try await send(
            .post, "/api/v1/auth/login", json: #"{"username":"admin","password":"\#(password)"}"#)
        token = reply.json["token"] as? String
    }
}

/// Runs `body` with a client, the collector behind it and the first admin's password; closes the
/// collector afterwards, also when `body` throws.
func withAPI(
    _ backend: Backend = .sqlite, rangedThreshold: Int? = nil,
    _ body: @escaping @Sendable (Session, Collector, String) async throws -> Void
)
    async throws
{
    var opened = try await makeCollector(backend)
    if let rangedThreshold { opened.rangedThreshold = rangedThreshold }
    let collector = opened
    let password = try await collector.bootstrap()!.password
    let application = try CollectorApplication.make(
        collector: collector, host: "127.0.0.1", port: 0, logger: Logger(label: "test"))
    do {
        try await application.test(.router) { client in try await body(Session(client), collector, password) }
    } catch {
        await collector.close()
        throw error
    }
    await collector.close()
}
