/// GCM's hash (NIST SP 800-38D §6.4): multiplication in GF(2^128) in GCM's bit order, and GHASH as
/// a running value that can be joined with another's. swift-crypto computes GHASH only inside a whole
/// `AES.GCM.seal`; a segment sealed as it is recorded (`ProgressiveSeal`) needs the hash of its
/// ciphertext so far, joined at any moment with the hash of a header and a tail written later.
/// Correctness is checked against `AES.GCM` itself (SealingTests).
struct GF128: Equatable, Sendable {
    /// Block bytes 0–7 and 8–15, big-endian: bit 0 of GCM's order is the top bit of `high`.
    var high: UInt64
    var low: UInt64

    static let zero = GF128(high: 0, low: 0)

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// A 16-byte block (a shorter one is padded with zeros, as GHASH pads the last block).
    init<Bytes: Collection>(block: Bytes) where Bytes.Element == UInt8 {
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in block.prefix(16).enumerated() {
            if index < 8 { high |= UInt64(byte) << (56 - 8 * UInt64(index)) } else { low |= UInt64(byte) << (120 - 8 * UInt64(index)) }
        }
        self.init(high: high, low: low)
    }

    var bytes: [UInt8] {
        (0..<16).map { index in
            index < 8 ? UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(index))) : UInt8(truncatingIfNeeded: low >> (120 - 8 * UInt64(index)))
        }
    }

    static func ^ (a: GF128, b: GF128) -> GF128 { GF128(high: a.high ^ b.high, low: a.low ^ b.low) }

    /// Algorithm 1 of SP 800-38D: 128 shifts; a block a frame of recording is a few thousand of them.
    static func * (x: GF128, y: GF128) -> GF128 {
        var z = GF128.zero
        var v = y
        for index in 0..<128 {
            let bit = index < 64 ? (x.high >> (63 - UInt64(index))) & 1 : (x.low >> (127 - UInt64(index))) & 1
            if bit == 1 { z = z ^ v }
            let carry = v.low & 1
            v.low = (v.low >> 1) | (v.high << 63)
            v.high >>= 1
            if carry == 1 { v.high ^= 0xE100_0000_0000_0000 }
        }
        return z
    }

    /// `self` to the power `exponent` (square and multiply).
    func power(_ exponent: Int) -> GF128 {
        var result = GF128(high: 0x8000_0000_0000_0000, low: 0)  // 1 in GCM's bit order
        var base = self
        var remaining = exponent
        while remaining > 0 {
            if remaining & 1 == 1 { result = result * base }
            base = base * base
            remaining >>= 1
        }
        return result
    }
}

/// GHASH over whole blocks, kept as its running value and the number of blocks absorbed, so that
/// the hash of `a` followed by `b` is `a.value · H^b.blocks ⊕ b.value`.
struct GHash: Sendable {
    let key: GF128
    private(set) var value = GF128.zero
    private(set) var blocks = 0

    init(key: GF128) { self.key = key }

    /// `bytes` in 16-byte blocks, the last padded with zeros.
    mutating func absorb(_ bytes: ArraySlice<UInt8>) {
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = min(start + 16, bytes.endIndex)
            value = (value ^ GF128(block: bytes[start..<end])) * key
            blocks += 1
            start = end
        }
    }

    mutating func absorb(_ block: GF128) {
        value = (value ^ block) * key
        blocks += 1
    }

    /// The hash of `self`'s blocks followed by `next`'s.
    func followed(by next: GHash) -> GHash {
        var joined = GHash(key: key)
        joined.value = value * key.power(next.blocks) ^ next.value
        joined.blocks = blocks + next.blocks
        return joined
    }
}
