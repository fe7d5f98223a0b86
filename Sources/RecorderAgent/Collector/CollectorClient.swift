import Foundation
import StorageClient

/// JSON requests to the collector over HTTPS (libcurl, verification on, the collector's CA).
public struct CollectorClient: Sendable {
    public let baseURL: String
    public let caFile: String?
    public let token: String?
    /// Reused connections: an agent reports every segment and a heartbeat a minute to the same collector.
    private let handles = CurlHandlePool()

    public init(baseURL: String, caFile: String?, token: String? = nil) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.caFile = caFile
        self.token = token
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Sends `body` (JSON) and returns the decoded JSON object; a 4xx/5xx becomes a Failure carrying the
    /// collector's own error message.
    public func request(_ method: String, _ path: String, body: [String: Any]? = nil) throws -> [String: Any] {
        let (status, data) = try raw(method, path, body: body)
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        guard (200..<300).contains(status) else {
            let message = CollectorClient.errorMessage(in: data) ?? String(decoding: data, as: UTF8.self)
            throw Failure(description: "\(method) \(baseURL)\(path): HTTP \(status): \(message)")
        }
        guard let object else { throw Failure(description: "\(method) \(baseURL)\(path): the answer is not JSON") }
        return object
    }

    /// The `error.message` of the collector's JSON error body, if the body is one.
    static func errorMessage(in data: Data) -> String? {
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        return (object?["error"] as? [String: Any])?["message"] as? String
    }

    func raw(_ method: String, _ path: String, body: [String: Any]? = nil, verifyPeer: Bool = true) throws
        -> (Int, Data)
    {
        let payload = try body.map { [UInt8](try JSONSerialization.data(withJSONObject: $0)) }
        do {
            return try send(method, path, payload: payload, verifyPeer: verifyPeer)
        } catch {
            throw Failure(description: error.description)
        }
    }

    /// Sends `payload` as a JSON body exactly as given (a manifest file, whose bytes are hashed).
    /// Network and TLS failures are `UploadError`s, so the uploader can tell retryable from not.
    func send(
        _ method: String, _ path: String, payload: [UInt8]?, verifyPeer: Bool = true, abort: UploadAbort? = nil
    ) throws(UploadError)
        -> (Int, Data)
    {
        var target = StorageTarget(
            baseURL: baseURL, credentials: token.map { .bearer(token: $0) } ?? .none, caFile: caFile)
        target.stallTimeoutSeconds = 30
        return try handles.withRequest { (request) throws(UploadError) in
            let status = try request.perform(
                method: method, url: baseURL + path, body: payload,
                headers: payload == nil ? [] : ["Content-Type: application/json"], target: target,
                abort: abort, verifyPeer: verifyPeer)
            return (status, Data(request.responseBody))
        }
    }
}
