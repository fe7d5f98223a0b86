import Foundation
import Testing

@testable import RecorderCore

struct ManifestTests {
    static let signer = try! ManifestSigner(rawPrivateKey: Data(repeating: 7, count: 32))

    static func sample() -> SegmentManifest {
        SegmentManifest(
            agentId: "ws-0042", nodePath: "/emea/paris/sales", callIds: ["call-1", "call-2"], sequence: 17,
            segmentFile: "20261123T120000.250Z-0017.webm.p7m", firstFrameTime: "2026-11-23T12:00:00.250Z",
            lastFrameTime: "2026-11-23T12:00:59.850Z", durationMs: 60_000, frameCount: 290, width: 1920,
            height: 1080,
            pauseGaps: [.init(from: "2026-11-23T12:00:10.000Z", to: "2026-11-23T12:00:20.000Z", reason: "pci")],
            endReason: "length-limit", sealedSize: 123_456,
            sealedSha256: String(repeating: "ab", count: 32), previousManifestSha256: String(repeating: "cd", count: 32)
        )
    }

    static var goldenURL: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/manifest-v1.json")
    }

    /// The contract's exact bytes: canonical JSON (sorted keys, no whitespace) of a known manifest.
    @Test func matchesTheGoldenFile() throws {
        let signed = try Self.signer.sign(Self.sample())
        let golden = try Data(contentsOf: Self.goldenURL)
        let decoded = try JSONDecoder().decode(SegmentManifest.self, from: golden)
        #expect(decoded == signed, "the golden manifest decodes to the sample (Ed25519 signatures are deterministic)")
        #expect(try decoded.fileBytes() == golden, "re-encoding is byte-stable")
        try ManifestVerification.verifySignature(decoded, expectedPublicKey: Self.signer.publicKeyBase64)
    }

    @Test func anyEditBreaksTheSignature() throws {
        let signed = try Self.signer.sign(Self.sample())
        try ManifestVerification.verifySignature(signed)
        var edits: [SegmentManifest] = []
        for change in 0..<4 {
            var edited = signed
            switch change {
            case 0: edited.callIds = ["call-1"]
            case 1: edited.sealedSha256 = String(repeating: "00", count: 32)
            case 2: edited.durationMs += 1
            default: edited.previousManifestSha256 = nil
            }
            edits.append(edited)
        }
        for edited in edits {
            #expect(throws: ManifestVerification.Failure.self) { try ManifestVerification.verifySignature(edited) }
        }
        let other = ManifestSigner.generate()
        #expect(throws: ManifestVerification.Failure.self) {
            try ManifestVerification.verifySignature(signed, expectedPublicKey: other.publicKeyBase64)
        }
        var unsigned = signed
        unsigned.signature = nil
        #expect(throws: ManifestVerification.Failure.self) { try ManifestVerification.verifySignature(unsigned) }
    }

    @Test func timestampsAreRFC3339WithMilliseconds() {
        #expect(SegmentManifest.timestamp(unixNanos: 1_795_435_200_250_000_000) == "2026-11-23T12:00:00.250Z")
    }
}
