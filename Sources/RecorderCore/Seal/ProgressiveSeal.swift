import Crypto
import _CryptoExtras

/// A segment sealed as it is recorded, so that a crash loses only what came after the last flush,
/// while nothing the agent writes to disk can be read without a recording key.
///
/// The sealed file (`SegmentSealer`) is one AES-256-GCM encryption of the whole WebM. GCM is counter
/// mode plus a hash (GHASH) of the ciphertext, so the ciphertext of each part of the WebM can be
/// made as soon as the part exists, at its final place, and the hash carried forward. Only the
/// file's ends change when it is closed: the header (its sizes, its Duration, where its Cues are)
/// and the tail (the Cues). `close` makes them for a file that ends now, with the tag such a file
/// has, without changing the state: an agent writes that closing beside the ciphertext each second,
/// and after a crash the last closing and the ciphertext before it are a complete sealed segment
/// (`envelope`), put together without the content key, which never leaves memory.
///
/// The header has a fixed length, a multiple of 16 bytes, so the body starts on a block of its own.
public final class ProgressiveSeal {
    /// The recipients' wrapped content keys (a DER SET OF KeyTransRecipientInfo), the GCM nonce.
    public let recipientSet: [UInt8]
    public let nonce: [UInt8]
    public let headerLength: Int
    let key: SymmetricKey
    private let hashKey: GF128
    private let tagMask: GF128
    /// GHASH over the body's whole blocks, and its last partial block's ciphertext, not yet hashed.
    private var body: GHash
    private var pending: [UInt8] = []
    public private(set) var bodyLength = 0

    /// What a file that ends at this point needs besides the body's ciphertext so far.
    public struct Closing: Sendable, Equatable {
        public var bodyLength: Int
        public var headerCiphertext: [UInt8]
        public var tailCiphertext: [UInt8]
        public var tag: [UInt8]

        public init(bodyLength: Int, headerCiphertext: [UInt8], tailCiphertext: [UInt8], tag: [UInt8]) {
            self.bodyLength = bodyLength
            self.headerCiphertext = headerCiphertext
            self.tailCiphertext = tailCiphertext
            self.tag = tag
        }
    }

    public init(for recipients: [SealingRecipient], headerLength: Int) throws {
        guard headerLength > 0, headerLength % 16 == 0 else {
            throw SealError("a progressively sealed header is a positive multiple of 16 bytes, not \(headerLength)")
        }
        key = SymmetricKey(size: .bits256)
        nonce = AES.GCM.Nonce().withUnsafeBytes { Array($0) }
        recipientSet = try SegmentSealer.wrap(key, for: recipients)
        self.headerLength = headerLength
        // H = E_K(0¹²⁸); the tag is GHASH ⊕ E_K(J0), J0 = nonce ‖ 1 (SP 800-38D §7.1).
        hashKey = GF128(block: try Self.block(key, [UInt8](repeating: 0, count: 16)))
        tagMask = GF128(block: try Self.block(key, nonce + [0, 0, 0, 1]))
        body = GHash(key: hashKey)
    }

    /// The ciphertext of the body's next bytes; the caller keeps it (the journal writes it).
    public func append(_ plaintext: [UInt8]) throws -> [UInt8] {
        let ciphertext = try GCMCounterMode.apply(plaintext, at: headerLength + bodyLength, nonce: nonce, key: key)
        bodyLength += plaintext.count
        pending += ciphertext
        let whole = pending.count / 16 * 16
        if whole > 0 {
            body.absorb(pending[0..<whole])
            pending.removeFirst(whole)
        }
        return ciphertext
    }

    /// The header (exactly `headerLength` bytes) and the tail of a file ending after the body so
    /// far, encrypted at their places, and the file's tag. The state is unchanged: recording goes on.
    public func close(header: [UInt8], tail: [UInt8]) throws -> Closing {
        guard header.count == headerLength else {
            throw SealError("the header is \(header.count) bytes; this seal was begun for \(headerLength)")
        }
        let headerCiphertext = try GCMCounterMode.apply(header, at: 0, nonce: nonce, key: key)
        let tailCiphertext = try GCMCounterMode.apply(tail, at: headerLength + bodyLength, nonce: nonce, key: key)
        var first = GHash(key: hashKey)
        first.absorb(headerCiphertext[...])
        var rest = GHash(key: hashKey)
        rest.absorb((pending + tailCiphertext)[...])
        // No additional data; the length block is len(A) = 0 ‖ len(C), in bits.
        let total = UInt64(headerLength + bodyLength + tail.count) * 8
        rest.absorb(GF128(high: 0, low: total))
        let hash = first.followed(by: body).followed(by: rest)
        return Closing(
            bodyLength: bodyLength, headerCiphertext: headerCiphertext, tailCiphertext: tailCiphertext,
            tag: (hash.value ^ tagMask).bytes)
    }

    /// The sealed segment (the same CMS as `SegmentSealer.seal`) from a closing and the body's
    /// ciphertext up to it: what recovery does, with no key.
    public static func envelope(
        recipientSet: [UInt8], nonce: [UInt8], closing: Closing, bodyCiphertext: ArraySlice<UInt8>
    ) throws -> [UInt8] {
        guard bodyCiphertext.count == closing.bodyLength else {
            throw SealError("the closing is for \(closing.bodyLength) body bytes, \(bodyCiphertext.count) given")
        }
        return try SegmentSealer.envelope(
            recipientSet: recipientSet, nonce: nonce,
            ciphertextLength: closing.headerCiphertext.count + bodyCiphertext.count + closing.tailCiphertext.count,
            tag: closing.tag
        ) {
            $0.append(contentsOf: closing.headerCiphertext)
            $0.append(contentsOf: bodyCiphertext)
            $0.append(contentsOf: closing.tailCiphertext)
        }
    }

    /// E_K(block): counter mode over zeros.
    private static func block(_ key: SymmetricKey, _ input: [UInt8]) throws -> [UInt8] {
        Array(try AES._CTR.encrypt([UInt8](repeating: 0, count: 16), using: key, nonce: try AES._CTR.Nonce(nonceBytes: input)))
    }
}

/// GCM's encryption of the bytes at a given place of the plaintext: counter mode, the first data
/// block being counter 2 (counter 1 masks the tag), big-endian in the nonce's last 4 bytes. The same
/// operation encrypts and decrypts.
public enum GCMCounterMode {
    public static func apply(_ bytes: [UInt8], at offset: Int, nonce: [UInt8], key: SymmetricKey) throws -> [UInt8] {
        guard !bytes.isEmpty else { return [] }
        let block = offset / 16
        let skip = offset - block * 16
        let counter = UInt32(2 + block)
        let start = nonce + [UInt8(counter >> 24), UInt8((counter >> 16) & 0xFF), UInt8((counter >> 8) & 0xFF), UInt8(counter & 0xFF)]
        let input = skip == 0 ? bytes : [UInt8](repeating: 0, count: skip) + bytes
        return Array(try AES._CTR.encrypt(input, using: key, nonce: try AES._CTR.Nonce(nonceBytes: start)).dropFirst(skip))
    }
}
