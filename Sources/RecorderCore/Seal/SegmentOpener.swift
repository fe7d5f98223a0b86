import Crypto
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

/// Opens sealed segments with one recipient's certificate and RSA private key (the collector's job).
/// Accepts what `SegmentSealer` writes and what `openssl cms -encrypt -aes-256-gcm` with RSA-OAEP-SHA256
/// writes; anything else is refused with a precise reason rather than guessed at.
public struct SegmentOpener: Sendable {
    private let issuerDER: [UInt8]
    private let serialNumber: [UInt8]
    /// DER of the RSA private key (swift-crypto's key types are not Sendable; parsing is cheap).
    private let privateKeyDER: Data

    public init(certificatePEM: String, privateKeyPEM: String) throws {
        let recipient = try SealingRecipient(certificatePEM: certificatePEM)
        issuerDER = recipient.issuerDER
        serialNumber = recipient.serialNumber
        let privateKey: _RSA.Encryption.PrivateKey
        do {
            privateKey = try _RSA.Encryption.PrivateKey(pemRepresentation: privateKeyPEM)
        } catch {
            throw SealError("cannot read the RSA private key (expected PEM, PKCS#8 or PKCS#1): \(error)")
        }
        privateKeyDER = privateKey.derRepresentation
        guard privateKey.publicKey.pkcs1DERRepresentation == recipient.publicKeyDER else {
            throw SealError("the private key does not belong to the certificate \(recipient.subject)")
        }
    }

    /// The content key of an object sealed for these recipients, when one of them is this opener.
    func contentKey(of recipients: [AuthEnvelopedData.Recipient]) throws -> SymmetricKey {
        guard let recipient = recipients.first(where: { $0.issuerDER == issuerDER && $0.serialNumber == serialNumber }) else {
            throw SealError.noMatchingRecipient
        }
        let keyBytes: Data
        do {
            let privateKey = try _RSA.Encryption.PrivateKey(derRepresentation: privateKeyDER)
            keyBytes = try privateKey.decrypt(recipient.encryptedKey, padding: .PKCS1_OAEP_SHA256)
        } catch {
            throw SealError("the content key does not decrypt with this private key (RSA-OAEP-SHA256): \(error)")
        }
        guard keyBytes.count == 32 else { throw SealError.malformed("the content key is \(keyBytes.count) bytes, not 32") }
        return SymmetricKey(data: keyBytes)
    }

    /// The content key of the object whose layout this is (`SealedLayout`), for reading it by ranges.
    public func contentKey(of layout: SealedLayout) throws -> SymmetricKey { try layout.contentKey(with: self) }

    /// Returns the exact plaintext, or throws when the data is not ours, not for us, or was altered.
    public func open(_ sealed: [UInt8]) throws -> [UInt8] {
        let envelope: AuthEnvelopedData
        do {
            envelope = try AuthEnvelopedData.parse(sealed)
        } catch let error as SealError {
            throw error
        } catch {
            throw SealError.malformed("\(error)")
        }
        let key = try contentKey(of: envelope.recipients)
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: envelope.nonce), ciphertext: envelope.ciphertext, tag: envelope.tag)
            return Array(try AES.GCM.open(box, using: key))
        } catch {
            throw SealError.authenticationFailed
        }
    }
}

/// The parts of a CMS AuthEnvelopedData that opening needs, read strictly.
struct AuthEnvelopedData {
    struct Recipient {
        let issuerDER: [UInt8]
        let serialNumber: [UInt8]
        let encryptedKey: [UInt8]
    }

    var recipients: [Recipient] = []
    var nonce: [UInt8] = []
    var ciphertext: [UInt8] = []
    var tag: [UInt8] = []

    static func parse(_ bytes: [UInt8]) throws -> AuthEnvelopedData {
        var result = AuthEnvelopedData()
        try DER.sequence(try DER.parse(bytes), identifier: .sequence) { contentInfo in
            guard try ASN1ObjectIdentifier(derEncoded: &contentInfo) == CMSObjectIdentifier.authEnvelopedData else {
                throw SealError.malformed("content type is not id-ct-authEnvelopedData")
            }
            try DER.explicitlyTagged(&contentInfo, tagNumber: 0, tagClass: .contextSpecific) { node in
                try DER.sequence(node, identifier: .sequence) { envelope in
                    _ = try Int(derEncoded: &envelope)
                    skipOptional(&envelope, tag: 0)  // originatorInfo
                    guard let infos = envelope.next() else { throw SealError.malformed("no recipientInfos") }
                    try DER.set(infos, identifier: .set) { items in
                        while let item = items.next() {
                            // Other RecipientInfo kinds (key agreement, KEK, password) are not ours: skip them.
                            guard item.identifier == .sequence, let recipient = try Recipient(node: item) else {
                                continue
                            }
                            result.recipients.append(recipient)
                        }
                    }
                    guard let content = envelope.next() else { throw SealError.malformed("no encrypted content") }
                    try result.readContent(content)
                    if let next = peek(envelope),
                        next.identifier == ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific)
                    {
                        throw SealError.malformed("authenticated attributes are not supported")
                    }
                    result.tag = try octets(envelope.next(), "mac")
                    skipOptional(&envelope, tag: 2)  // unauthAttrs
                }
            }
        }
        return result
    }

    private mutating func readContent(_ node: ASN1Node) throws {
        try DER.sequence(node, identifier: .sequence) { content in
            guard try ASN1ObjectIdentifier(derEncoded: &content) == CMSObjectIdentifier.data else {
                throw SealError.malformed("encrypted content type is not id-data")
            }
            guard let algorithm = content.next() else { throw SealError.malformed("no content encryption algorithm") }
            try DER.sequence(algorithm, identifier: .sequence) { fields in
                guard try ASN1ObjectIdentifier(derEncoded: &fields) == CMSObjectIdentifier.aes256GCM else {
                    throw SealError.malformed("content encryption is not AES-256-GCM")
                }
                guard let parameters = fields.next() else { throw SealError.malformed("no GCM parameters") }
                try DER.sequence(parameters, identifier: .sequence) { gcm in
                    nonce = try AuthEnvelopedData.octets(gcm.next(), "GCM nonce")
                    // ICVlen defaults to 12 (RFC 5084); we only accept the 16-byte tags OpenSSL and we write.
                    let tagLength = try gcm.next().map { try Int(derEncoded: $0) } ?? 12
                    guard tagLength == SegmentSealer.tagLength else {
                        throw SealError.malformed("GCM tag length \(tagLength), expected \(SegmentSealer.tagLength)")
                    }
                }
            }
            guard let encrypted = content.next(),
                encrypted.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)
            else { throw SealError.malformed("no encrypted content octets") }
            ciphertext = Array(try ASN1OctetString(derEncoded: encrypted, withIdentifier: encrypted.identifier).bytes)
        }
    }

    static func octets(_ node: ASN1Node?, _ name: String) throws -> [UInt8] {
        guard let node else { throw SealError.malformed("missing \(name)") }
        return Array(try ASN1OctetString(derEncoded: node).bytes)
    }

    static func peek(_ iterator: ASN1NodeCollection.Iterator) -> ASN1Node? {
        var copy = iterator
        return copy.next()
    }

    static func skipOptional(_ iterator: inout ASN1NodeCollection.Iterator, tag: UInt) {
        if let next = peek(iterator), next.identifier == ASN1Identifier(tagWithNumber: tag, tagClass: .contextSpecific)
        {
            _ = iterator.next()
        }
    }
}

extension AuthEnvelopedData.Recipient {
    /// Reads a KeyTransRecipientInfo; nil when it identifies its key by subjectKeyIdentifier, which
    /// our recipients (issuer and serial) never match.
    init?(node: ASN1Node) throws {
        var parsed: (issuer: [UInt8], serial: [UInt8], key: [UInt8])?
        try DER.sequence(node, identifier: .sequence) { fields in
            _ = try Int(derEncoded: &fields)
            guard let rid = fields.next() else { throw SealError.malformed("recipient without identifier") }
            guard let algorithm = fields.next() else { throw SealError.malformed("recipient without key algorithm") }
            let encryptedKey = try AuthEnvelopedData.octets(fields.next(), "encrypted key")
            guard rid.identifier == .sequence else { return }
            try AuthEnvelopedData.Recipient.requireOAEPSHA256(algorithm)
            try DER.sequence(rid, identifier: .sequence) { issuerAndSerial in
                guard let issuer = issuerAndSerial.next(), let serial = issuerAndSerial.next(),
                    case .primitive(let serialBytes) = serial.content
                else { throw SealError.malformed("bad IssuerAndSerialNumber") }
                parsed = (Array(issuer.encodedBytes), Array(serialBytes), encryptedKey)
            }
        }
        guard let parsed else { return nil }
        self.init(issuerDER: parsed.issuer, serialNumber: parsed.serial, encryptedKey: parsed.key)
    }

    /// RSA-OAEP whose hash and MGF hash are both SHA-256 (absent parameters would mean SHA-1).
    static func requireOAEPSHA256(_ algorithm: ASN1Node) throws {
        var serializer = DER.Serializer()
        try KeyTransRecipientInfo.serializeOAEPAlgorithm(into: &serializer)
        guard Array(algorithm.encodedBytes) == serializer.serializedBytes else {
            throw SealError.malformed("key transport is not RSA-OAEP with SHA-256 and MGF1-SHA-256")
        }
    }
}
