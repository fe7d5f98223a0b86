import Foundation
import TestSupport
import Testing

/// With a recipient certificate the agent writes only sealed segments, and they open to valid VP8 WebM.
@Suite(.serialized)
struct SealedRecordingTests {
    @Test func recordsSealedSegmentsThatOpensslAndOpenDecrypt() throws {
        let keys = try TestKeyPair(name: "recording key")
        let xvfb = try XvfbServer(width: 640, height: 480)
        let scene = try SceneProcess(display: xvfb.display, scene: "demo", seconds: 20)
        defer { scene.stop() }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("sealed-\(UUID().uuidString)").path
        let result = try ProcessRunner.run(
            ProcessRunner.product("recorder-agent"),
            [
                "record", "--display", xvfb.display, "--out", out, "--duration", "3s", "--segment-length", "2s",
                "--recipient", keys.certificate.path,
            ])
        #expect(result.status == 0, "\(result.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(names.count == 2, "\(names)")
        #expect(names.allSatisfy { $0.hasSuffix(".webm.p7m") }, "no plaintext may reach the disk: \(names)")

        let decrypted = FileManager.default.temporaryDirectory.appendingPathComponent("open-\(UUID().uuidString)").path
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
            #expect(viaOpenssl.stdoutData == (try Data(contentsOf: URL(fileURLWithPath: plain))))
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
