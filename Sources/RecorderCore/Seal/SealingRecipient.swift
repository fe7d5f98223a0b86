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

    /// DER INTEGER content octets for a positive big-endian magnitude. swift-certificates exposes serial
    /// numbers without leading zeros, so a serial whose first byte is ≥ 0x80 needs its 0x00 back, or it
    /// would encode a negative number that OpenSSL (rightly) does not match to the certificate.
    static func integerContent(magnitude: ArraySlice<UInt8>) -> [UInt8] {
        let trimmed = magnitude.drop { $0 == 0 }
        guard let first = trimmed.first else { return [0] }
        return first >= 0x80 ? [0] + trimmed : Array(trimmed)
    }

    public init(certificate: Certificate) throws {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate.issuer)
        issuerDER = serializer.serializedBytes
        serialNumber = SealingRecipient.integerContent(magnitude: certificate.serialNumber.bytes)
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
