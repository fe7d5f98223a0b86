/// Why the VP8 encoder refused to start or to encode.
public struct EncoderError: Error, CustomStringConvertible, Sendable {
    public let description: String

    static func configuration(_ detail: String) -> Self { .init(description: "VP8 encoder setup failed: \(detail)") }
    static func encode(_ detail: String) -> Self { .init(description: "VP8 encoding failed: \(detail)") }
}
