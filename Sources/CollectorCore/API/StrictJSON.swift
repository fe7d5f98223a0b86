import Foundation
import Hummingbird
import NIOCore

/// A request body type whose fields are known: a misspelt key is a 400 naming it, not a silently
/// ignored setting.
protocol StrictJSON: Decodable {
    static var fields: Set<String> { get }
}

extension Request {
    /// Reads a JSON object body (at most the context's upload size) into `T`, with messages that name
    /// the field and the problem.
    func decodeStrict<T: StrictJSON>(_ type: T.Type, context: CollectorContext) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: context.maxUploadSize)
        } catch is NIOTooManyBytesError {
            throw AdminError(.tooLarge, "the request body is larger than \(context.maxUploadSize) bytes")
        }
        let data = Data(buffer: buffer)
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw AdminError(.invalid, "the request body must be a JSON object")
        }
        if let unknown = object.keys.sorted().first(where: { !T.fields.contains($0) }) {
            throw AdminError(
                .invalid, "unknown field \"\(unknown)\"; allowed: \(T.fields.sorted().joined(separator: ", "))")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.typeMismatch(expected, context) {
            throw AdminError(
                .invalid,
                "field \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" must be \(StrictJSONNames.name(expected))"
            )
        } catch let DecodingError.valueNotFound(expected, context) {
            throw AdminError(
                .invalid,
                "field \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" must be \(StrictJSONNames.name(expected)), not null"
            )
        } catch let DecodingError.dataCorrupted(context) {
            throw AdminError(
                .invalid,
                "field \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\": \(context.debugDescription)"
            )
        } catch let DecodingError.keyNotFound(key, _) {
            throw AdminError(.invalid, "field \"\(key.stringValue)\" is required")
        }
    }
}

enum StrictJSONNames {
    static func name(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "a whole number"
        case is Bool.Type: "true or false"
        default: "of type \(type)"
        }
    }
}

extension StorageTargetInput: StrictJSON {
    static let fields: Set<String> = [
        "name", "kind", "url", "auth", "username", "password", "bearer_token", "ca_pem", "agent_credentials",
    ]
}

extension AgentStorageCredentials.Input: StrictJSON {
    static let fields: Set<String> = ["username", "password", "bearer_token"]
}

extension NodePathInput: StrictJSON {
    static let fields: Set<String> = ["path", "storage", "description", "quota_mb"]
}
