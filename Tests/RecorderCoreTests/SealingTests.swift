import Foundation
import TestSupport
import Testing

@testable import RecorderCore

/// The CMS contract: `openssl cms -decrypt` opens what we seal, and we open what `openssl cms -encrypt` seals.
@Suite struct SealingTests {
    func write(_ bytes: [UInt8], in directory: URL, _ name: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    func opener(_ pair: TestKeyPair) throws -> SegmentOpener {
        try SegmentOpener(certificatePEM: try pair.certificatePEM, privateKeyPEM: try pair.privateKeyPEM)
    }

    /// What `openssl cms -encrypt -aes-256-gcm` with RSA-OAEP-SHA256 makes of `plaintext`.
    func opensslEncrypt(_ plaintext: [UInt8], for pair: TestKeyPair) throws -> [UInt8] {
        let input = try write(plaintext, in: pair.directory, "plain-\(UUID().uuidString).webm")
        let output = pair.directory.appendingPathComponent("openssl-\(UUID().uuidString).p7m")
        let result = try ProcessRunner.run(
            "openssl",
            [
                // -keyopt applies to the -recip before it.
                "cms", "-encrypt", "-binary", "-aes-256-gcm", "-recip", pair.certificate.path, "-keyopt",
                "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256", "-outform", "DER", "-in", input.path, "-out",
                output.path,
            ])
        guard result.status == 0 else { throw TestFailure("openssl cms -encrypt: \(result.stderr)") }
        return [UInt8](try Data(contentsOf: output))
    }

    func opensslDecrypt(_ file: URL, with pair: TestKeyPair) throws -> ProcessResult {
        try ProcessRunner.run(
            "openssl",
            [
                "cms", "-decrypt", "-inform", "DER", "-in", file.path, "-recip", pair.certificate.path, "-inkey",
                pair.privateKey.path,
            ])
    }

    /// A real segment: plaintext that looks like what the agent seals.
    func sampleSegment() -> [UInt8] {
        var writer = WebMSegmentWriter(width: 640, height: 480, startWallTimeNanos: 1_795_435_200_000_000_000)
        writer.append(frame: (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }, timestampMs: 0, isKeyframe: true)
        writer.append(frame: [1, 2, 3], timestampMs: 200, isKeyframe: false)
        return writer.finish(durationMs: 400)
    }

    @Test func opensslOpensWhatWeSealForEveryRecipient() throws {
        let current = try TestKeyPair(name: "recording key 2026")
        let next = try TestKeyPair(name: "recording key 2027")
        let plaintext = sampleSegment()
        let sealed = try SegmentSealer.seal(
            plaintext,
            for: [
                try SealingRecipient(certificatePEM: try current.certificatePEM),
                try SealingRecipient(certificatePEM: try next.certificatePEM),
            ])
        let file = try write(sealed, in: current.directory, "segment.webm.p7m")
        for pair in [current, next] {
            let result = try opensslDecrypt(file, with: pair)
            #expect(result.status == 0, "openssl cms -decrypt: \(result.stderr)")
            let exact = result.stdoutData == Data(plaintext)  // a Bool: a failing #expect would print 70 KB
            #expect(exact, "openssl must yield the exact WebM bytes")
            let opened = try opener(pair).open(sealed) == plaintext
            #expect(opened)
        }
        // The profile the design names: AuthEnvelopedData, RSA-OAEP, AES-256-GCM.
        let structure = try ProcessRunner.run("openssl", ["asn1parse", "-inform", "DER", "-in", file.path])
        #expect(structure.stdout.contains("id-smime-ct-authEnvelopedData"), "\(structure.stdout)")
        #expect(structure.stdout.contains("rsaesOaep"))
        #expect(structure.stdout.contains("aes-256-gcm"))
        #expect(structure.stdout.contains("mgf1"))
    }

    /// Read by ranges (the collector's playback of large recordings): every range decrypts to the
    /// same bytes as opening the whole, from the object's first 64 KiB and the range's own ciphertext.
    @Test func rangesDecryptFromTheirOwnCiphertext() throws {
        let pair = try TestKeyPair(name: "collector")
        let plaintext = (0..<300_001).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        let sealed = try SegmentSealer.seal(plaintext, for: [try SealingRecipient(certificatePEM: try pair.certificatePEM)])
        let layout = try #require(SealedLayout.parse(prefix: Array(sealed.prefix(65_536)), totalSize: sealed.count))
        #expect(layout.ciphertextLength == plaintext.count)
        let key = try opener(pair).contentKey(of: layout)
        for range in [0..<1, 0..<16, 15..<17, 1000..<70_000, 299_990..<300_001, 123_457..<123_458, 0..<300_001] {
            let cipher = Array(sealed[layout.ciphertextRange(for: range)])
            #expect(try layout.decrypt(cipher, range: range, key: key) == Array(plaintext[range]), "\(range)")
        }
        // OpenSSL's layout, if the ranged reader takes it, reads the same; if not, it is opened whole.
        let small = Array(plaintext.prefix(1000))
        let fromOpenSSL = try opensslEncrypt(small, for: pair)
        if let other = SealedLayout.parse(prefix: Array(fromOpenSSL.prefix(65_536)), totalSize: fromOpenSSL.count) {
            let cipher = Array(fromOpenSSL[other.ciphertextRange(for: 0..<1000)])
            #expect(try other.decrypt(cipher, range: 0..<1000, key: try opener(pair).contentKey(of: other)) == small)
        }
    }

    @Test func weOpenWhatOpensslSeals() throws {
        let pair = try TestKeyPair(name: "collector")
        let plaintext = sampleSegment()
        let opened = try opener(pair).open(try opensslEncrypt(plaintext, for: pair)) == plaintext
        #expect(opened)
    }

    /// Serials whose first byte is ≥ 0x80 carry a leading zero in DER (found when CI generated one by chance).
    @Test(arguments: ["0x80000000000000000001", "0xFF", "0x7F", "1", "0x00FF00"])
    func serialNumbersMatchOpensslWhateverTheirLeadingByte(_ serial: String) throws {
        let pair = try TestKeyPair(name: "serial \(serial)", serial: serial)
        let plaintext = sampleSegment()
        let sealed = try SegmentSealer.seal(
            plaintext, for: [try SealingRecipient(certificatePEM: try pair.certificatePEM)])
        let result = try opensslDecrypt(try write(sealed, in: pair.directory, "s.p7m"), with: pair)
        #expect(result.status == 0, "openssl cms -decrypt with serial \(serial): \(result.stderr)")
        let exact = result.stdoutData == Data(plaintext)
        #expect(exact, "openssl must yield the exact WebM bytes")
        let opened = try opener(pair).open(try opensslEncrypt(plaintext, for: pair)) == plaintext
        #expect(opened)
    }

    /// Every DER length form (short, 1-, 2- and 3-byte long form) around the hand-built headers.
    @Test func sealsEverySizeOpensslAgrees() throws {
        let pair = try TestKeyPair(name: "sizes")
        let recipient = try SealingRecipient(certificatePEM: try pair.certificatePEM)
        for size in [0, 1, 60, 110, 127, 128, 200, 255, 256, 65_535, 65_536, 300_000] {
            let plaintext = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            let sealed = try SegmentSealer.seal(plaintext, for: [recipient])
            let opened = try opener(pair).open(sealed) == plaintext
            #expect(opened, "size \(size)")
            let result = try opensslDecrypt(try write(sealed, in: pair.directory, "size-\(size).p7m"), with: pair)
            let exact = result.status == 0 && result.stdoutData == Data(plaintext)
            #expect(exact, "openssl, size \(size): \(result.stderr)")
        }
    }

    @Test func derHeadersUseTheShortestLengthForm() {
        #expect(DERHeader.bytes(tag: 0x04, length: 127) == [0x04, 0x7F])
        #expect(DERHeader.bytes(tag: 0x04, length: 128) == [0x04, 0x81, 0x80])
        #expect(DERHeader.bytes(tag: 0x30, length: 256) == [0x30, 0x82, 0x01, 0x00])
        #expect(DERHeader.bytes(tag: 0x80, length: 2_200_000) == [0x80, 0x83, 0x21, 0x91, 0xC0])
    }

    @Test func anyFlippedByteIsDetected() throws {
        let pair = try TestKeyPair(name: "tamper")
        let plaintext = sampleSegment()
        let sealed = try SegmentSealer.seal(
            plaintext, for: [try SealingRecipient(certificatePEM: try pair.certificatePEM)])
        let opener = try opener(pair)
        // Last byte: the GCM tag. 40 bytes before the tag's element: inside the ciphertext.
        for offset in [sealed.count - 1, sealed.count - 40, sealed.count / 2] {
            var tampered = sealed
            tampered[offset] ^= 0x01
            #expect(throws: SealError.self) { try opener.open(tampered) }
            let file = try write(tampered, in: pair.directory, "tampered-\(offset).p7m")
            let result = try opensslDecrypt(file, with: pair)
            #expect(result.status != 0, "openssl accepted a segment with byte \(offset) flipped")
        }
    }

    @Test func theWrongKeyIsToldApart() throws {
        let sealedFor = try TestKeyPair(name: "agent key")
        let other = try TestKeyPair(name: "someone else")
        let sealed = try SegmentSealer.seal(
            [1, 2, 3], for: [try SealingRecipient(certificatePEM: try sealedFor.certificatePEM)])
        #expect {
            try opener(other).open(sealed)
        } throws: { error in
            "\(error)".contains("no recipient matching this certificate")
        }
        #expect(throws: SealError.self) {
            try SegmentOpener(certificatePEM: try sealedFor.certificatePEM, privateKeyPEM: try other.privateKeyPEM)
        }
        #expect(throws: SealError.self) { try SealingRecipient(certificatePEM: "not a certificate") }
        #expect(throws: SealError.self) { try SegmentSealer.seal([1], for: []) }
        #expect(throws: SealError.self) { try opener(sealedFor).open(Array("plain WebM, not sealed".utf8)) }
    }
}
