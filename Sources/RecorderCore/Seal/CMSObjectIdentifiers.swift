import SwiftASN1

/// Object identifiers of the CMS profile we write (RFC 5652, 5083, 5084, 4055).
enum CMSObjectIdentifier {
    /// id-ct-authEnvelopedData (RFC 5083).
    static let authEnvelopedData: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 16, 1, 23]
    /// id-data.
    static let data: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 7, 1]
    /// id-aes256-GCM (RFC 5084).
    static let aes256GCM: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 1, 46]
    /// id-RSAES-OAEP (RFC 4055).
    static let rsaesOAEP: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 7]
    /// id-mgf1.
    static let mgf1: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 8]
    /// id-sha256.
    static let sha256: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 1]
}
