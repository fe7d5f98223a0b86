import CollectorCore
import Foundation
import Hummingbird
import NIOCore
import RecorderCore

extension Request {
    /// Reads a JSON request body (at most the context's upload size) into `T` with the one strict
    /// decoder every contract uses (`RecorderCore.StrictJSON`): a misspelt key is a 400 naming it and
    /// the known ones, not a silently ignored setting, and a wrong value names the key and what it
    /// must be.
    func decodeStrict<T: Decodable>(_ type: T.Type, context: CollectorContext) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: context.maxUploadSize)
        } catch is NIOTooManyBytesError {
            throw CollectorError(.tooLarge, "the request body is larger than \(context.maxUploadSize) bytes")
        }
        do {
            return try StrictJSON.decode(T.self, from: Data(buffer: buffer))
        } catch {
            throw CollectorError(.invalid, error.message)
        }
    }
}
