import Foundation
import TestSupport
import Testing

@testable import RecorderCore

/// The CMS contract: `openssl cms -decrypt` opens what we seal, and we open what `openssl cms -encrypt` seals.
@Suite struct SealingTests {
    /// A throwaway RSA-2048 key and self-signed certificate made by openssl in a fresh directory.
    struct KeyPair {
        let directory: URL
        var certificate: URL { directory.appendingPathComponent("cert.pem") }
        var privateKey: URL { directory.appendingPathComponent("key.pem") }
        var certificatePEM: String { get throws { try String(contentsOf: certificate, encoding: .utf8) } }
        var privateKeyPEM: String { get throws { try String(contentsOf: privateKey, encoding: .utf8) } }

        init(name: String) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("seal-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let result = try ProcessRunner.run(
                "openssl",
                [
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=\(name)/O=Recorder Tests",
                    "-keyout", directory.appendingPathComponent("key.pem").path, "-out",
                    directory.appendingPathComponent("cert.pem").path,
                ])
            guard result.status == 0 else { throw TestFailure("openssl req failed: \(result.stderr)") }
        }

        func opener() throws -> SegmentOpener {
            try SegmentOpener(certificatePEM: try certificatePEM, privateKeyPEM: try privateKeyPEM)
        }
    }

    func write(_ bytes: [UInt8], in directory: URL, _ name: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    func opensslDecrypt(_ file: URL, with pair: KeyPair) throws -> ProcessResult {
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
        let current = try KeyPair(name: "recording key 2026")
        let next = try KeyPair(name: "recording key 2027")
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
            #expect(result.stdoutData == Data(plaintext), "openssl must yield the exact WebM bytes")
            #expect(try pair.opener().open(sealed) == plaintext)
        }
        // The profile the design names: AuthEnvelopedData, RSA-OAEP, AES-256-GCM.
        let structure = try ProcessRunner.run("openssl", ["asn1parse", "-inform", "DER", "-in", file.path])
        #expect(structure.stdout.contains("id-smime-ct-authEnvelopedData"), "\(structure.stdout)")
        #expect(structure.stdout.contains("rsaesOaep"))
        #expect(structure.stdout.contains("aes-256-gcm"))
        #expect(structure.stdout.contains("mgf1"))
    }

    @Test func weOpenWhatOpensslSeals() throws {
        let pair = try KeyPair(name: "collector")
        let plaintext = sampleSegment()
        let input = try write(plaintext, in: pair.directory, "segment.webm")
        let output = pair.directory.appendingPathComponent("openssl.p7m")
        let result = try ProcessRunner.run(
            "openssl",
            [
                // -keyopt applies to the -recip before it.
                "cms", "-encrypt", "-binary", "-aes-256-gcm", "-recip", pair.certificate.path, "-keyopt",
                "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256", "-outform", "DER", "-in", input.path, "-out",
                output.path,
            ])
        #expect(result.status == 0, "openssl cms -encrypt: \(result.stderr)")
        let sealed = [UInt8](try Data(contentsOf: output))
        #expect(try pair.opener().open(sealed) == plaintext)
    }

    @Test func anyFlippedByteIsDetected() throws {
        let pair = try KeyPair(name: "tamper")
        let plaintext = sampleSegment()
        let sealed = try SegmentSealer.seal(
            plaintext, for: [try SealingRecipient(certificatePEM: try pair.certificatePEM)])
        let opener = try pair.opener()
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
        let sealedFor = try KeyPair(name: "agent key")
        let other = try KeyPair(name: "someone else")
        let sealed = try SegmentSealer.seal(
            [1, 2, 3], for: [try SealingRecipient(certificatePEM: try sealedFor.certificatePEM)])
        #expect {
            try other.opener().open(sealed)
        } throws: { error in
            "\(error)".contains("no recipient matching this certificate")
        }
        #expect(throws: SealError.self) {
            try SegmentOpener(certificatePEM: try sealedFor.certificatePEM, privateKeyPEM: try other.privateKeyPEM)
        }
        #expect(throws: SealError.self) { try SealingRecipient(certificatePEM: "not a certificate") }
        #expect(throws: SealError.self) { try SegmentSealer.seal([1], for: []) }
        #expect(throws: SealError.self) { try sealedFor.opener().open(Array("plain WebM, not sealed".utf8)) }
    }
}
