import Crypto
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

/// A certificate segments are sealed for: its RSA key wraps each segment's content key, and its
/// issuer and serial number identify it in the CMS `KeyTransRecipientInfo`.
public struct SealingRecipient: Sendable {
    /// DER of the certificate's issuer Name, exactly as in the certificate.
    let issuerDER: [UInt8]
    /// Content octets of the certificate's serial number INTEGER.
    let serialNumber: [UInt8]
    /// PKCS#1 DER of the RSA key (swift-crypto's key types are not Sendable; parsing is cheap).
    let publicKeyDER: Data
    public let subject: String

    var publicKey: _RSA.Encryption.PublicKey {
        get throws { try _RSA.Encryption.PublicKey(derRepresentation: publicKeyDER) }
    }

    /// Parses a PEM certificate holding an RSA key of at least 2048 bits.
    public init(certificatePEM pem: String) throws {
        let certificate: Certificate
        do {
            certificate = try Certificate(pemEncoded: pem)
        } catch {
            throw SealError("cannot read the recipient certificate (expected PEM X.509): \(error)")
        }
        try self.init(certificate: certificate)
    }

    public init(certificate: Certificate) throws {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate.issuer)
        issuerDER = serializer.serializedBytes
        serialNumber = Array(certificate.serialNumber.bytes)
        subject = certificate.subject.description
        do {
            publicKeyDER = try _RSA.Encryption.PublicKey(
                derRepresentation: certificate.publicKey.subjectPublicKeyInfoBytes
            )
            .pkcs1DERRepresentation
        } catch {
            throw SealError(
                "the recipient certificate \(certificate.subject) has no usable RSA key (2048 bits or more): \(error)")
        }
    }
}
