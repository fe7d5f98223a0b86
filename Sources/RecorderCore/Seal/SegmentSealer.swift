import Crypto
import Foundation
import SwiftASN1
import _CryptoExtras

/// Seals a segment as a DER CMS `AuthEnvelopedData` (RFC 5083): AES-256-GCM content encryption
/// (RFC 5084) under a fresh random key, wrapped with RSA-OAEP-SHA256 (RFC 4055) for every recipient,
/// in the profile `openssl cms -encrypt -aes-256-gcm -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256`
/// writes, so `openssl cms -decrypt -inform DER` opens it. No authenticated attributes: the AAD is empty.
public enum SegmentSealer {
    /// The GCM tag length we write and accept (OpenSSL writes 16).
    static let tagLength = 16

    public static func seal(_ plaintext: [UInt8], for recipients: [SealingRecipient]) throws -> [UInt8] {
        let contentKey = SymmetricKey(size: .bits256)
        let recipientSet = try wrap(contentKey, for: recipients)
        let nonce = AES.GCM.Nonce()
        let box = try AES.GCM.seal(plaintext, using: contentKey, nonce: nonce)
        let ciphertext = box.ciphertext
        return try envelope(
            recipientSet: recipientSet, nonce: nonce.withUnsafeBytes { Array($0) }, ciphertextLength: ciphertext.count,
            tag: Array(box.tag)) { $0.append(contentsOf: ciphertext) }
    }

    /// The content key wrapped for every recipient: the DER SET OF KeyTransRecipientInfo.
    static func wrap(_ contentKey: SymmetricKey, for recipients: [SealingRecipient]) throws -> [UInt8] {
        guard !recipients.isEmpty else {
            throw SealError("no recipient certificate: a segment must be sealed for at least one key")
        }
        let keyBytes = contentKey.withUnsafeBytes { Array($0) }
        let recipientInfos = try recipients.map { recipient in
            KeyTransRecipientInfo(
                issuerDER: recipient.issuerDER, serialNumber: recipient.serialNumber,
                encryptedKey: Array(try recipient.publicKey.encrypt(keyBytes, padding: .PKCS1_OAEP_SHA256)))
        }
        var serializer = DER.Serializer()
        try serializer.serializeSetOf(recipientInfos)
        return serializer.serializedBytes
    }

    /// The CMS around a GCM ciphertext of `ciphertextLength` bytes, which `appendCiphertext` adds
    /// (from wherever it is, without a copy to join its parts), and its tag.
    static func envelope(
        recipientSet: [UInt8], nonce: [UInt8], ciphertextLength: Int, tag: [UInt8],
        appendCiphertext: (inout [UInt8]) -> Void
    ) throws -> [UInt8] {
        // The small parts go through swift-asn1; the megabytes of ciphertext are appended once, under
        // headers computed here. (Nesting the ciphertext in swift-asn1 moved it byte by byte at every
        // level: 70 MB/s measured, 60% of the time in `_moveRange`.)
        var small = DER.Serializer()
        try small.serialize(CMSObjectIdentifier.data)
        try small.appendConstructedNode(identifier: .sequence) { algorithm in
            try algorithm.serialize(CMSObjectIdentifier.aes256GCM)
            try algorithm.appendConstructedNode(identifier: .sequence) { parameters in
                try parameters.serialize(ASN1OctetString(contentBytes: ArraySlice(nonce)))
                try parameters.serialize(tagLength)
            }
        }
        let contentPrefix = small.serializedBytes
        small = DER.Serializer()
        try small.serialize(CMSObjectIdentifier.authEnvelopedData)
        let contentType = small.serializedBytes
        let version: [UInt8] = [0x02, 0x01, 0x00]  // INTEGER 0: no originatorInfo, only KeyTransRecipientInfos
        let mac = DERHeader.bytes(tag: 0x04, length: tag.count) + tag

        let encryptedContentHeader = DERHeader.bytes(tag: 0x80, length: ciphertextLength)  // [0] IMPLICIT OCTET STRING
        let contentInfoLength = contentPrefix.count + encryptedContentHeader.count + ciphertextLength
        let contentInfoHeader = DERHeader.bytes(tag: 0x30, length: contentInfoLength)
        let envelopeLength =
            version.count + recipientSet.count + contentInfoHeader.count + contentInfoLength + mac.count
        let envelopeHeader = DERHeader.bytes(tag: 0x30, length: envelopeLength)
        let explicitHeader = DERHeader.bytes(tag: 0xA0, length: envelopeHeader.count + envelopeLength)
        let outerLength = contentType.count + explicitHeader.count + envelopeHeader.count + envelopeLength
        let outerHeader = DERHeader.bytes(tag: 0x30, length: outerLength)

        var output: [UInt8] = []
        output.reserveCapacity(outerHeader.count + outerLength)
        for part in [
            outerHeader, contentType, explicitHeader, envelopeHeader, version, recipientSet, contentInfoHeader,
            contentPrefix, encryptedContentHeader,
        ] {
            output.append(contentsOf: part)
        }
        let before = output.count
        appendCiphertext(&output)
        guard output.count - before == ciphertextLength else {
            throw SealError("the ciphertext is \(output.count - before) bytes, not the \(ciphertextLength) announced")
        }
        output.append(contentsOf: mac)
        return output
    }
}

/// DER tag-length headers (X.690 §8.1.3): short form below 128 bytes, long form above.
enum DERHeader {
    static func bytes(tag: UInt8, length: Int) -> [UInt8] {
        guard length >= 128 else { return [tag, UInt8(length)] }
        var octets: [UInt8] = []
        var remaining = length
        while remaining > 0 {
            octets.insert(UInt8(remaining & 0xFF), at: 0)
            remaining >>= 8
        }
        return [tag, 0x80 | UInt8(octets.count)] + octets
    }
}

/// KeyTransRecipientInfo (RFC 5652 §6.2.1) with an IssuerAndSerialNumber identifier and RSA-OAEP-SHA256.
struct KeyTransRecipientInfo: DERSerializable {
    let issuerDER: [UInt8]
    let serialNumber: [UInt8]
    let encryptedKey: [UInt8]

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { info in
            try info.serialize(0)  // version 0: rid is IssuerAndSerialNumber
            info.appendConstructedNode(identifier: .sequence) { rid in
                rid.serializeRawBytes(issuerDER)
                rid.appendPrimitiveNode(identifier: .integer) { $0.append(contentsOf: serialNumber) }
            }
            try KeyTransRecipientInfo.serializeOAEPAlgorithm(into: &info)
            try info.serialize(ASN1OctetString(contentBytes: ArraySlice(encryptedKey)))
        }
    }

    /// rsaesOaep with RSAES-OAEP-params { [0] sha256, [1] mgf1(sha256) } as OpenSSL writes them (no NULLs).
    static func serializeOAEPAlgorithm(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { algorithm in
            try algorithm.serialize(CMSObjectIdentifier.rsaesOAEP)
            try algorithm.appendConstructedNode(identifier: .sequence) { parameters in
                try parameters.serialize(explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific) { hash in
                    try hash.appendConstructedNode(identifier: .sequence) {
                        try $0.serialize(CMSObjectIdentifier.sha256)
                    }
                }
                try parameters.serialize(explicitlyTaggedWithTagNumber: 1, tagClass: .contextSpecific) { mask in
                    try mask.appendConstructedNode(identifier: .sequence) { mgf in
                        try mgf.serialize(CMSObjectIdentifier.mgf1)
                        try mgf.appendConstructedNode(identifier: .sequence) {
                            try $0.serialize(CMSObjectIdentifier.sha256)
                        }
                    }
                }
            }
        }
    }
}
