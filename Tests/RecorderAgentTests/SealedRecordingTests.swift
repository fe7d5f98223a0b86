import Foundation
import TestSupport
import TestTraits
import Testing

/// With a recipient certificate the agent writes only sealed segments, and they open to valid VP8 WebM.
@Suite(.serialized, .realTime)
struct SealedRecordingTests {
    @Test func recordsSealedSegmentsThatOpensslAndOpenDecrypt() throws {
        let keys = try TestKeyPair(name: "recording key")
        let desktop = try LiveDesktop(width: 640, height: 480, seconds: 20)
        defer { desktop.stop() }
        let out = desktop.directory
        let result = try ProcessRunner.run(
            ProcessRunner.product("recorder-agent"),
            [
                "record", "--display", desktop.display, "--out", out, "--duration", "3s", "--segment-length", "2s",
                "--recipient", keys.certificate.path, "--state-dir", "\(out)-state",
            ])
        #expect(result.status == 0, "\(result.stderr)")
        let all = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(
            all.allSatisfy { $0.hasSuffix(".webm.p7m") || $0.hasSuffix(".json") },
            "no plaintext may reach the disk: \(all)")
        let names = all.filter { $0.hasSuffix(".webm.p7m") }
        #expect(names.count == 2, "\(names)")

        let decrypted = desktop.directory
        let opened = try ProcessRunner.run(
            ProcessRunner.product("recorder-agent"),
            ["open", "--certificate", keys.certificate.path, "--key", keys.privateKey.path, "--out", decrypted]
                + names.map { "\(out)/\($0)" })
        #expect(opened.status == 0, "\(opened.stdout) \(opened.stderr)")
        for name in names {
            let plain = "\(decrypted)/\(name.dropLast(4))"
            #expect(try MediaProbe(path: plain).probe().streams.first?.codec_name == "vp8")
            #expect(try MediaProbe(path: plain).decodeErrors() == "")
            let viaOpenssl = try ProcessRunner.run(
                "openssl",
                [
                    "cms", "-decrypt", "-inform", "DER", "-in", "\(out)/\(name)", "-recip", keys.certificate.path,
                    "-inkey", keys.privateKey.path,
                ])
            #expect(viaOpenssl.status == 0, "\(viaOpenssl.stderr)")
            let same = viaOpenssl.stdoutData == (try Data(contentsOf: URL(fileURLWithPath: plain)))
            #expect(same, "openssl and recorder-agent open must give the same bytes")
        }
    }

    @Test func anUnreadableCertificateIsRefusedBeforeRecording() throws {
        let result = try ProcessRunner.run(
            ProcessRunner.product("recorder-agent"),
            ["record", "--display", ":987", "--out", "/tmp/unused", "--recipient", "/nonexistent/cert.pem"])
        #expect(result.status != 0)
        #expect(
            result.stderr.contains("cannot read the recipient certificate /nonexistent/cert.pem"), "\(result.stderr)")
    }
}

extension SealedRecordingTests {
    func verify(_ directory: String) throws -> ProcessResult {
        try ProcessRunner.run(ProcessRunner.product("recorder-agent"), ["verify", directory])
    }

    @Test func manifestsAreSignedAndChainedAcrossRestartsAndBreaksAreNamed() throws {
        let keys = try TestKeyPair(name: "recording key")
        let desktop = try LiveDesktop(width: 320, height: 240, seconds: 30)
        defer { desktop.stop() }
        let base = desktop.directory
        let out = "\(base)/segments"
        let state = "\(base)/state"
        // Two recordings with the same agent state: the chain continues across the restart.
        for _ in 0..<2 {
            let run = try ProcessRunner.run(
                ProcessRunner.product("recorder-agent"),
                [
                    "record", "--display", desktop.display, "--out", out, "--duration", "2.5s", "--segment-length",
                    "1s",
                    "--recipient", keys.certificate.path, "--state-dir", state, "--agent-id", "ws-test", "--node-path",
                    "/emea/paris/sales",
                ])
            #expect(run.status == 0, "\(run.stderr)")
        }
        let manifests = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".json") }
            .sorted()
        #expect(manifests.count == 6, "\(manifests)")
        let intact = try verify(out)
        #expect(intact.status == 0, "\(intact.stdout)")
        #expect(intact.stdout.contains("OK: 6 manifest(s)"), "\(intact.stdout)")

        let keyAttributes = try FileManager.default.attributesOfItem(atPath: "\(state)/identity.ed25519")
        #expect((keyAttributes[.posixPermissions] as? Int) == 0o600)
        let stateAttributes = try FileManager.default.attributesOfItem(atPath: state)
        #expect((stateAttributes[.posixPermissions] as? Int) == 0o700)

        // An altered segment is named by its manifest.
        let third = manifests[2]
        let sealedThird = "\(out)/\(third.dropLast(5)).webm.p7m"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: sealedThird))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: sealedThird))
        let altered = try verify(out)
        #expect(altered.status != 0)
        #expect(altered.stdout.contains("BROKEN: first break: \(third): "), "\(altered.stdout)")
        #expect(altered.stdout.contains("does not match its SHA-256"), "\(altered.stdout)")

        // A deleted segment (file and manifest) shows as a gap in the chain.
        try FileManager.default.removeItem(atPath: sealedThird)
        try FileManager.default.removeItem(atPath: "\(out)/\(third)")
        let deleted = try verify(out)
        #expect(deleted.status != 0)
        #expect(deleted.stdout.contains("segments 3...3 of agent ws-test are missing"), "\(deleted.stdout)")
    }
}
