/// Why a segment could not be sealed or opened; the message says what to check.
public struct SealError: Error, CustomStringConvertible, Sendable {
    public let description: String

    init(_ description: String) {
        self.description = description
    }

    static func malformed(_ detail: String) -> Self {
        .init("not a sealed segment (CMS AuthEnvelopedData, AES-256-GCM, RSA-OAEP-SHA256): \(detail)")
    }
    static let noMatchingRecipient = SealError(
        "the sealed segment has no recipient matching this certificate: it was sealed for another key (check key rotation)"
    )
    static let authenticationFailed = SealError(
        "the sealed segment failed its integrity check (AES-GCM tag): it was altered or truncated")
}
