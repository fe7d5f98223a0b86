import CollectorCore
import Foundation
import RecorderCore
import TestSupport
import TestTraits
import Testing

/// Recording keys: made on first start, rotated and retired; the CMS contract holds with openssl in
/// both directions; retired keys still open old segments.
@Suite(.serialized, .realTime)
struct RecordingKeyTests {
    @Test(arguments: Backend.allCases)
    func rotationKeepsOldSegmentsOpenable(_ backend: Backend) async throws {
        try await withCollector(backend) { collector in
            let first = try #require(try await collector.recordingKeys.active().first)
            let keyFile = collector.dataDirectory.appendingPathComponent("keys/\(first.id).key").path
            let permissions = try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int
            #expect(permissions == 0o600)

            let plaintext = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let sealedForFirst = try SegmentSealer.seal(
                plaintext, for: [SealingRecipient(certificatePEM: first.certificatePEM)])

            let second = try await collector.recordingKeys.add(by: adminActor)
            #expect(try await collector.recordingKeys.active().map(\.id).sorted() == [first.id, second.id].sorted())
            try await collector.recordingKeys.retire(first.id, by: adminActor)
            #expect(try await collector.recordingKeys.active().map(\.id) == [second.id])
            await #expect(throws: CollectorError.self) { try await collector.recordingKeys.retire(second.id, by: adminActor) }

            #expect(try await collector.recordingKeys.open(sealedForFirst) == plaintext, "a retired key still opens")
            let foreign = try TestKeyPair(name: "someone else")
            let sealedForForeign = try SegmentSealer.seal(
                plaintext, for: [SealingRecipient(certificatePEM: String(contentsOf: foreign.certificate, encoding: .utf8))]
            )
            await #expect(throws: CollectorError.self) { try await collector.recordingKeys.open(sealedForForeign) }
            let actions = try await AuditLog.entries(in: collector.catalog.sql).map(\.action)
            #expect(actions.prefix(2) == ["recording_key.retire", "recording_key.add"])
        }
    }

    @Test func theDecryptCommandOpensWhatOpensslSealedForTheCollector() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)").path
        let collector = ProcessRunner.product("recorder-collector")
        let listed = try ProcessRunner.run(collector, ["keys", "list", "--data-dir", directory])
        #expect(listed.status == 0, "\(listed.stderr)")
        let id = try #require(listed.stdout.split(separator: "\t").first.map(String.init))
        #expect(listed.stdout.contains("\tactive\t"))

        // The certificate agents seal for, as an admin exports it.
        let certificate = "\(directory)/recipient.pem"
        let exported = try ProcessRunner.run(collector, ["keys", "certificate", id, "--data-dir", directory])
        #expect(exported.status == 0 && exported.stdout.hasPrefix("-----BEGIN CERTIFICATE-----"), "\(exported.stderr)")
        try exported.stdout.write(toFile: certificate, atomically: true, encoding: .utf8)
        let plain = "\(directory)/segment.webm"
        try Data((0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: URL(fileURLWithPath: plain))
        let sealed = "\(directory)/segment.webm.p7m"
        let encrypted = try ProcessRunner.run(
            "openssl",
            [
                "cms", "-encrypt", "-binary", "-aes-256-gcm", "-recip", certificate, "-keyopt", "rsa_padding_mode:oaep",
                "-keyopt", "rsa_oaep_md:sha256", "-outform", "DER", "-in", plain, "-out", sealed,
            ])
        #expect(encrypted.status == 0, "\(encrypted.stderr)")

        let out = "\(directory)/opened.webm"
        let decrypted = try ProcessRunner.run(collector, ["decrypt", sealed, "--out", out, "--data-dir", directory])
        #expect(decrypted.status == 0, "\(decrypted.stderr)")
        #expect(FileManager.default.contents(atPath: out) == FileManager.default.contents(atPath: plain))
        // And openssl opens what the collector's key can open: the key file is a standard PEM key.
        let viaOpenssl = try ProcessRunner.run(
            "openssl",
            [
                "cms", "-decrypt", "-inform", "DER", "-in", sealed, "-recip", certificate, "-inkey",
                "\(directory)/keys/\(id).key",
            ])
        #expect(viaOpenssl.status == 0, "\(viaOpenssl.stderr)")

        var damaged = try [UInt8](Data(contentsOf: URL(fileURLWithPath: sealed)))
        damaged[damaged.count - 20] ^= 0x01
        try Data(damaged).write(to: URL(fileURLWithPath: "\(directory)/damaged.webm.p7m"))
        let refused = try ProcessRunner.run(
            collector, ["decrypt", "\(directory)/damaged.webm.p7m", "--data-dir", directory])
        #expect(
            refused.status == 1 && refused.stderr.contains("no recording key opens this segment"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/damaged.webm"), "nothing written on failure")

        let audit = try ProcessRunner.run(collector, ["admin", "audit", "--data-dir", directory])
        #expect(audit.stdout.contains("segment.decrypt"))
    }
}
