import Foundation
import RecorderCore
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

    /// Sends `body` as JSON and reads the answer as `Answer` (unknown keys ignored: a newer collector
    /// may add some); a 4xx/5xx becomes a Failure carrying the collector's own error message.
    public func exchange<Body: Encodable, Answer: Decodable>(
        _ method: String, _ path: String, body: Body?, answer: Answer.Type, abort: TransferCancellation? = nil
    ) throws -> Answer {
        let payload = try body.map { [UInt8](try StrictJSON.encode($0)) }
        let status: Int
        let data: Data
        do {
            (status, data) = try send(method, path, payload: payload, abort: abort)
        } catch {
            throw Failure(description: error.description)
        }
        guard (200..<300).contains(status) else {
            let message = CollectorClient.errorMessage(in: data) ?? String(decoding: data.prefix(500), as: UTF8.self)
            throw Failure(description: "\(method) \(baseURL)\(path): HTTP \(status): \(OutsideText.bounded(message))")
        }
        do {
            return try StrictJSON.decode(Answer.self, from: data, unknownKeys: .ignore)
        } catch {
            throw Failure(description: "\(method) \(baseURL)\(path): the answer is not what this agent reads: \(error)")
        }
    }

    /// The collector's JSON error body, `{"error": {"code", "message"}}`.
    struct ErrorBody: Decodable {
        struct Detail: Decodable {
            var message: String
        }
        var error: Detail
    }

    /// The `error.message` of the collector's JSON error body, if the body is one.
    static func errorMessage(in data: Data) -> String? {
        (try? StrictJSON.decode(ErrorBody.self, from: data, unknownKeys: .ignore))?.error.message
    }

    /// A GET whose answer is not JSON (the CA certificate).
    func raw(_ method: String, _ path: String, verifyPeer: Bool = true) throws -> (Int, Data) {
        do {
            return try send(method, path, payload: nil, verifyPeer: verifyPeer)
        } catch {
            throw Failure(description: error.description)
        }
    }

    /// Sends `payload` as a JSON body exactly as given (a manifest file, whose bytes are hashed).
    /// Network and TLS failures are `TransferError`s, so the uploader can tell retryable from not.
    func send(
        _ method: String, _ path: String, payload: [UInt8]?, verifyPeer: Bool = true, abort: TransferCancellation? = nil
    ) throws(TransferError)
        -> (Int, Data)
    {
        var target = StorageTarget(
            baseURL: baseURL, credentials: token.map { .bearer(token: $0) } ?? .none, caFile: caFile)
        target.stallTimeoutSeconds = 30
        return try handles.withRequest { (request) throws(TransferError) in
            let status = try request.perform(
                method: method, url: baseURL + path, body: payload,
                headers: payload == nil ? [] : ["Content-Type: application/json"], target: target,
                abort: abort, verifyPeer: verifyPeer)
            return (status, Data(request.responseBody))
        }
    }
}
