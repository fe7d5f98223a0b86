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
        guard !recipients.isEmpty else {
            throw SealError("no recipient certificate: a segment must be sealed for at least one key")
        }
        let contentKey = SymmetricKey(size: .bits256)
        let nonce = AES.GCM.Nonce()
        let box = try AES.GCM.seal(plaintext, using: contentKey, nonce: nonce)
        let keyBytes = contentKey.withUnsafeBytes { Array($0) }
        let recipientInfos = try recipients.map { recipient in
            KeyTransRecipientInfo(
                issuerDER: recipient.issuerDER, serialNumber: recipient.serialNumber,
                encryptedKey: Array(try recipient.publicKey.encrypt(keyBytes, padding: .PKCS1_OAEP_SHA256)))
        }

        var serializer = DER.Serializer()
        try serializer.appendConstructedNode(identifier: .sequence) { contentInfo in
            try contentInfo.serialize(CMSObjectIdentifier.authEnvelopedData)
            try contentInfo.serialize(explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific) { explicit in
                try explicit.appendConstructedNode(identifier: .sequence) { envelope in
                    try envelope.serialize(0)  // CMSVersion 0: no originatorInfo, only KeyTransRecipientInfos
                    try envelope.serializeSetOf(recipientInfos)
                    try envelope.appendConstructedNode(identifier: .sequence) { content in
                        try content.serialize(CMSObjectIdentifier.data)
                        try content.appendConstructedNode(identifier: .sequence) { algorithm in
                            try algorithm.serialize(CMSObjectIdentifier.aes256GCM)
                            try algorithm.appendConstructedNode(identifier: .sequence) { parameters in
                                try parameters.serialize(
                                    ASN1OctetString(contentBytes: ArraySlice(nonce.withUnsafeBytes { Array($0) })))
                                try parameters.serialize(tagLength)
                            }
                        }
                        try ASN1OctetString(contentBytes: ArraySlice(box.ciphertext)).serialize(
                            into: &content, withIdentifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)
                        )
                    }
                    try envelope.serialize(ASN1OctetString(contentBytes: ArraySlice(box.tag)))
                }
            }
        }
        return serializer.serializedBytes
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
