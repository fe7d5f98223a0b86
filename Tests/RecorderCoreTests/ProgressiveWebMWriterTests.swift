import Foundation
import TestSupport
import Testing

@testable import RecorderCore

/// The WebM of a segment sealed as it is recorded: closed after any cut, header + clusters + Cues is
/// a file ffmpeg decodes whole and ffprobe measures at the Duration given, our parser reads with its
/// Cues on the keyframes, and, sealed progressively, `openssl cms -decrypt` yields byte for byte.
@Suite struct ProgressiveWebMWriterTests {
    /// Real VP8 from ffmpeg: 4 s of a test pattern at 5 fps, a keyframe every 10 frames.
    static func frames() throws -> [(bytes: [UInt8], isKeyframe: Bool)] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("progressive-\(UUID().uuidString).ivf").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let made = try ProcessRunner.run(
            "ffmpeg",
            ["-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=5:duration=4", "-c:v", "libvpx", "-g", "10", "-b:v", "300k", "-f", "ivf", file])
        guard made.status == 0 else { throw TestFailure("ffmpeg: \(made.stderr)") }
        let ivf = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        var frames: [(bytes: [UInt8], isKeyframe: Bool)] = []
        var offset = 32
        while offset + 12 <= ivf.count {
            let size = Int(ivf[offset]) | Int(ivf[offset + 1]) << 8 | Int(ivf[offset + 2]) << 16 | Int(ivf[offset + 3]) << 24
            let frame = Array(ivf[(offset + 12)..<(offset + 12 + size)])
            frames.append((frame, frame[0] & 0x01 == 0))
            offset += 12 + size
        }
        return frames
    }

    @Test func closedAfterAnyCutItIsAWholePlayableFile() throws {
        let frames = try Self.frames()
        #expect(frames.count == 20 && frames[0].isKeyframe && frames[10].isKeyframe)
        let pair = try TestKeyPair(name: "progressive-webm")
        var writer = ProgressiveWebMWriter(width: 320, height: 240, startWallTimeNanos: 1_795_435_200_000_000_000)
        #expect(writer.headerLength % 16 == 0)
        let seal = try ProgressiveSeal(
            for: [try SealingRecipient(certificatePEM: try pair.certificatePEM)], headerLength: writer.headerLength)
        var body: [UInt8] = []
        var bodyCiphertext: [UInt8] = []
        func add(_ cluster: [UInt8]) throws {
            body += cluster
            bodyCiphertext += try seal.append(cluster)
        }
        for (index, frame) in frames.enumerated() {
            try add(writer.append(frame: frame.bytes, timestampMs: Int64(index) * 200, isKeyframe: frame.isKeyframe))
            // A cut every 3 frames (the journal's flush), and closings at a few of them.
            guard index % 3 == 2 || index == frames.count - 1 else { continue }
            try add(writer.cut())
            #expect(!writer.hasOpenCluster)
            let durationMs = Double(index + 1) * 200
            let (header, tail) = writer.closing(durationMs: durationMs)
            #expect(header.count == writer.headerLength)
            let file = header + body + tail

            let summary = try WebMFileSummary.parse(file)
            #expect(summary.blocks.count == index + 1 && summary.durationMs == durationMs, "after frame \(index)")
            #expect(summary.cuePoints.map(\.timeMs) == stride(from: 0, through: Int64(index) * 200, by: 2000).map { $0 })
            #expect(summary.width == 320 && summary.height == 240)

            let path = FileManager.default.temporaryDirectory.appendingPathComponent("closed-\(UUID().uuidString).webm").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            try Data(file).write(to: URL(fileURLWithPath: path))
            let decoded = try ProcessRunner.run("ffmpeg", ["-v", "error", "-i", path, "-f", "null", "-"])
            #expect(decoded.status == 0 && decoded.stderr.isEmpty, "after frame \(index): \(decoded.stderr)")
            let probe = try ProcessRunner.run(
                "ffprobe",
                ["-v", "error", "-count_frames", "-show_entries", "stream=nb_read_frames:format=duration", "-of", "default=nw=1:nk=1", path])
            let values = probe.stdout.split(separator: "\n").map(String.init)
            #expect(values.first == "\(index + 1)", "frames after \(index): \(probe.stdout)")
            #expect(abs((Double(values.last ?? "") ?? 0) - durationMs / 1000) < 0.01, "duration after \(index): \(probe.stdout)")

            let closing = try seal.close(header: header, tail: tail)
            let sealed = try ProgressiveSeal.envelope(
                recipientSet: seal.recipientSet, nonce: seal.nonce, closing: closing, bodyCiphertext: bodyCiphertext[...])
            let opened = try SealingTests().opensslDecrypt(try SealingTests().write(sealed, in: pair.directory, "c\(index).p7m"), with: pair)
            #expect(opened.status == 0 && opened.stdoutData == Data(file), "after frame \(index): \(opened.stderr)")
        }
    }
}
