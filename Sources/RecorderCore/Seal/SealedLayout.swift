import Crypto
import Foundation
import SwiftASN1
import _CryptoExtras

/// Where the parts of a sealed object are, read from its first bytes only: the recipients, the GCM
/// nonce and the ciphertext's place. AES-GCM encrypts with AES in counter mode, so any range of the
/// plaintext can then be decrypted from the same range of ciphertext, without reading or holding the
/// rest. (What this gives up is the GCM tag, which covers the whole ciphertext: a caller checks the
/// whole object's SHA-256 against a trusted one instead, as the collector does with its catalog's.)
///
/// Only the layout `SegmentSealer` writes (DER, the ciphertext one primitive OCTET STRING); anything
/// else (OpenSSL's constructed octets, say) is nil, and the caller opens the object whole.
public struct SealedLayout: Sendable, Equatable {
    public var ciphertextOffset: Int
    public var ciphertextLength: Int
    public var nonce: [UInt8]
    var recipients: [[UInt8]]

    /// The layout from the object's first bytes (enough to reach its ciphertext; 64 KiB always is
    /// for a few recipients), or nil when it is not one this reads.
    public static func parse(prefix bytes: [UInt8], totalSize: Int) -> SealedLayout? {
        var reader = TLVReader(bytes: bytes)
        guard let outer = reader.next(), outer.tag == 0x30, outer.valueOffset + outer.length == totalSize,
            let type = reader.next(), type.tag == 0x06, reader.slice(type) == oid(CMSObjectIdentifier.authEnvelopedData),
            let explicit = reader.next(), explicit.tag == 0xA0,
            let envelope = reader.next(), envelope.tag == 0x30,
            let version = reader.next(), version.tag == 0x02
        else { return nil }
        reader.skip(version)
        guard var set = reader.next() else { return nil }
        if set.tag == 0xA0 {  // originatorInfo
            reader.skip(set)
            guard let next = reader.next() else { return nil }
            set = next
        }
        guard set.tag == 0x31, set.valueOffset + set.length <= bytes.count else { return nil }
        let recipients = Array(bytes[set.headerOffset..<(set.valueOffset + set.length)])
        reader.skip(set)
        guard let content = reader.next(), content.tag == 0x30,
            let dataType = reader.next(), dataType.tag == 0x06, reader.slice(dataType) == oid(CMSObjectIdentifier.data),
            let algorithm = reader.next(), algorithm.tag == 0x30, algorithm.valueOffset + algorithm.length <= bytes.count
        else { return nil }
        guard let nonce = gcmNonce(Array(bytes[algorithm.headerOffset..<(algorithm.valueOffset + algorithm.length)])) else {
            return nil
        }
        reader.skip(algorithm)
        // [0] IMPLICIT OCTET STRING, primitive: the ciphertext, then the 16-byte tag.
        guard let ciphertext = reader.next(), ciphertext.tag == 0x80,
            ciphertext.valueOffset + ciphertext.length + 2 + SegmentSealer.tagLength <= totalSize
        else { return nil }
        return SealedLayout(
            ciphertextOffset: ciphertext.valueOffset, ciphertextLength: ciphertext.length, nonce: nonce,
            recipients: [recipients])
    }

    /// `plaintext[range]`, from `ciphertext` (which must be the ciphertext's bytes from the 16-byte
    /// block holding `range.lowerBound` up to `range.upperBound`) under the content key.
    public func decrypt(_ ciphertext: [UInt8], range: Range<Int>, key: SymmetricKey) throws -> [UInt8] {
        let blockStart = range.lowerBound / 16 * 16
        let plain = try GCMCounterMode.apply(ciphertext, at: blockStart, nonce: nonce, key: key)
        return Array(plain.dropFirst(range.lowerBound - blockStart))
    }

    /// The ciphertext's byte range in the object that `decrypt` needs for plaintext `range`.
    public func ciphertextRange(for range: Range<Int>) -> Range<Int> {
        (ciphertextOffset + range.lowerBound / 16 * 16)..<(ciphertextOffset + range.upperBound)
    }

    /// The content key, unwrapped with the first recipient this opener is (RSA-OAEP-SHA256).
    func contentKey(with opener: SegmentOpener) throws -> SymmetricKey {
        let node = try DER.parse(recipients[0])
        var found: [AuthEnvelopedData.Recipient] = []
        try DER.set(node, identifier: .set) { items in
            while let item = items.next() {
                guard item.identifier == .sequence, let recipient = try AuthEnvelopedData.Recipient(node: item) else { continue }
                found.append(recipient)
            }
        }
        return try opener.contentKey(of: found)
    }

    private static func oid(_ identifier: ASN1ObjectIdentifier) -> [UInt8] {
        var serializer = DER.Serializer()
        try? serializer.serialize(identifier)
        return serializer.serializedBytes
    }

    /// The nonce of an AES-256-GCM AlgorithmIdentifier with a 16-byte tag, or nil.
    private static func gcmNonce(_ der: [UInt8]) -> [UInt8]? {
        guard let node = try? DER.parse(der) else { return nil }
        var nonce: [UInt8]?
        try? DER.sequence(node, identifier: .sequence) { fields in
            guard try ASN1ObjectIdentifier(derEncoded: &fields) == CMSObjectIdentifier.aes256GCM, let parameters = fields.next() else { return }
            try DER.sequence(parameters, identifier: .sequence) { gcm in
                let value = try AuthEnvelopedData.octets(gcm.next(), "GCM nonce")
                let tagLength = try gcm.next().map { try Int(derEncoded: $0) } ?? 12
                if tagLength == SegmentSealer.tagLength, value.count == 12 { nonce = value }
            }
        }
        return nonce
    }
}

/// DER tag-length headers, walked in place (only definite lengths of up to 4 bytes).
struct TLVReader {
    struct Header {
        var tag: UInt8
        var headerOffset: Int
        var valueOffset: Int
        var length: Int
    }

    let bytes: [UInt8]
    var position = 0

    /// The header at the current position; the position moves into its value (use `skip` to pass it).
    mutating func next() -> Header? {
        guard position + 2 <= bytes.count else { return nil }
        let tag = bytes[position]
        let first = bytes[position + 1]
        var length = Int(first)
        var header = 2
        if first & 0x80 != 0 {
            let count = Int(first & 0x7F)
            guard (1...4).contains(count), position + 2 + count <= bytes.count else { return nil }
            length = bytes[(position + 2)..<(position + 2 + count)].reduce(0) { $0 << 8 | Int($1) }
            header += count
        }
        let found = Header(tag: tag, headerOffset: position, valueOffset: position + header, length: length)
        position += header
        return found
    }

    mutating func skip(_ header: Header) { position = header.valueOffset + header.length }

    mutating func slice(_ header: Header) -> [UInt8] {
        guard header.valueOffset + header.length <= bytes.count else { return [] }
        skip(header)
        return Array(bytes[header.headerOffset..<(header.valueOffset + header.length)])
    }
}
