import Crypto
import Foundation
import TestSupport
import Testing

@testable import RecorderCore

/// A segment sealed as it is recorded (`ProgressiveSeal`): closed at any point, with only its header
/// and tail made then, it is the same CMS a whole seal makes, and `openssl cms -decrypt` opens it to
/// exactly header, body so far and tail. The GF(2¹²⁸) arithmetic is checked against AES-GCM itself.
@Suite struct ProgressiveSealTests {
    let sealing = SealingTests()

    @Test func closedAtAnyPointItIsTheSealedFileOfWhatWasRecordedSoFar() throws {
        let pair = try TestKeyPair(name: "progressive")
        let seal = try ProgressiveSeal(for: [try SealingRecipient(certificatePEM: try pair.certificatePEM)], headerLength: 64)
        var generator = SystemRandomNumberGenerator()
        var body: [UInt8] = []
        var bodyCiphertext: [UInt8] = []
        // Pieces of every length around the 16-byte blocks, closings between them.
        for (round, size) in [0, 1, 15, 16, 17, 31, 100, 4096, 5, 70_000, 3].enumerated() {
            let piece = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            body += piece
            bodyCiphertext += try seal.append(piece)
            let header = (0..<64).map { UInt8(truncatingIfNeeded: $0 &+ round) }
            let tail = (0..<(round * 7)).map { UInt8(truncatingIfNeeded: $0 &* 3 &+ round) }
            let closing = try seal.close(header: header, tail: tail)
            let plaintext = header + body + tail

            // The tag is AES-GCM's for this plaintext under the seal's key and nonce.
            let box = try AES.GCM.seal(plaintext, using: seal.key, nonce: try AES.GCM.Nonce(data: seal.nonce))
            #expect(closing.tag == Array(box.tag), "round \(round): the tag")
            #expect(closing.headerCiphertext + bodyCiphertext + closing.tailCiphertext == Array(box.ciphertext), "round \(round)")

            let sealed = try ProgressiveSeal.envelope(
                recipientSet: seal.recipientSet, nonce: seal.nonce, closing: closing, bodyCiphertext: bodyCiphertext[...])
            #expect(try sealing.opener(pair).open(sealed) == plaintext, "round \(round): we open it")
            if round % 4 == 0 || round == 10 {
                let result = try sealing.opensslDecrypt(try sealing.write(sealed, in: pair.directory, "p\(round).p7m"), with: pair)
                #expect(result.status == 0 && result.stdoutData == Data(plaintext), "round \(round): openssl \(result.stderr)")
            }
        }
    }

    @Test func aClosingAndCiphertextThatDoNotMatchAreRefusedAndAlteredBytesDoNotOpen() throws {
        let pair = try TestKeyPair(name: "progressive-wrong")
        let seal = try ProgressiveSeal(for: [try SealingRecipient(certificatePEM: try pair.certificatePEM)], headerLength: 16)
        let ciphertext = try seal.append(Array(repeating: 7, count: 40))
        let closing = try seal.close(header: Array(repeating: 1, count: 16), tail: [9, 9])
        #expect(throws: SealError.self) {
            try ProgressiveSeal.envelope(
                recipientSet: seal.recipientSet, nonce: seal.nonce, closing: closing, bodyCiphertext: ciphertext.dropLast())
        }
        var altered = ciphertext
        altered[5] ^= 1
        let forged = try ProgressiveSeal.envelope(
            recipientSet: seal.recipientSet, nonce: seal.nonce, closing: closing, bodyCiphertext: altered[...])
        #expect(throws: (any Error).self) { try sealing.opener(pair).open(forged) }
        #expect(throws: SealError.self) { try seal.close(header: [1], tail: []) }
        #expect(throws: SealError.self) { try ProgressiveSeal(for: [], headerLength: 16) }
        #expect(throws: SealError.self) { try ProgressiveSeal(for: [try SealingRecipient(certificatePEM: try pair.certificatePEM)], headerLength: 20) }
    }

    @Test func fieldArithmeticFollowsGCM() {
        // 1 is the identity; x · y = y · x; powers agree with repeated products.
        let one = GF128(high: 0x8000_0000_0000_0000, low: 0)
        let a = GF128(high: 0x66E9_4BD4_EF8A_2C3B, low: 0x884C_FA59_CA34_2B2E)
        let b = GF128(high: 0x0388_DACE_60B6_A392, low: 0xF328_C2B9_71B2_FE78)
        #expect(a * one == a && one * a == a)
        #expect(a * b == b * a)
        #expect(a.power(3) == a * a * a && a.power(0) == one)
        // SP 800-38D test case 2 (McGrew–Viega): H = 66e94bd4…, C = 0388dace…; GHASH(H, {}, C) = f38cbb1a….
        var hash = GHash(key: a)
        hash.absorb(b.bytes[...])
        hash.absorb(GF128(high: 0, low: 128))
        #expect(hash.value.bytes == [0xf3, 0x8c, 0xbb, 0x1a, 0xd6, 0x92, 0x23, 0xdc, 0xc3, 0x45, 0x7a, 0xe5, 0xb6, 0xb0, 0xf8, 0x85])
    }
}
