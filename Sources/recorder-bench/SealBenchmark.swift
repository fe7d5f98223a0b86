import ArgumentParser
import Foundation
import RecorderAgent
import RecorderCore

/// Measures what each segment costs after encoding: sealing (CMS, AES-256-GCM + RSA-OAEP) and the
/// durable write (temp file, fsync, rename, fsync dir). Prints figures; asserts nothing.
struct SealBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seal", abstract: "Sealing and durable-write cost per segment.")

    @Option(help: "PEM certificate(s) to seal for (repeatable); at least one.")
    var recipient: [String]

    @Option(help: "Segment size in MB (a 60 s segment at 300 kbit/s is ~2.2 MB).")
    var segmentMB: Double = 2.2

    @Option(help: "Segments to seal and write.")
    var iterations: Int = 40

    @Option(help: "Directory for the durable writes (use the spool's filesystem).")
    var directory: String = FileManager.default.temporaryDirectory.path

    func run() throws {
        let recipients = try recipient.map {
            try SealingRecipient(certificatePEM: String(contentsOfFile: $0, encoding: .utf8))
        }
        let size = Int(segmentMB * 1_000_000)
        let segment = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
        let clock = ContinuousClock()
        var sealed: [UInt8] = []
        _ = try SegmentSealer.seal(segment, for: recipients)  // warm-up
        let sealing = try clock.measure {
            for _ in 0..<iterations { sealed = try SegmentSealer.seal(segment, for: recipients) }
        }
        // The crash journal's way (`ProgressiveSeal`): the same bytes in pieces of one second at
        // 300 kbit/s, each followed by a closing (a 512-byte header, a 1 KB tail).
        let piece = 37_500
        let progressive = try clock.measure {
            for _ in 0..<iterations {
                let seal = try ProgressiveSeal(for: recipients, headerLength: 512)
                var offset = 0
                while offset < segment.count {
                    _ = try seal.append(Array(segment[offset..<min(segment.count, offset + piece)]))
                    _ = try seal.close(header: [UInt8](repeating: 1, count: 512), tail: [UInt8](repeating: 2, count: 1024))
                    offset += piece
                }
            }
        }
        let folder = URL(fileURLWithPath: directory).appendingPathComponent("recorder-bench-\(getpid())")
        try DurableFile.makeDirectory(folder)
        defer { try? FileManager.default.removeItem(at: folder) }
        let writing = try clock.measure {
            for index in 0..<iterations {
                try DurableFile.write(Data(sealed), to: folder.appendingPathComponent("segment-\(index).webm.p7m"))
            }
        }
        let sealMs = sealing.milliseconds / Double(iterations)
        let writeMs = writing.milliseconds / Double(iterations)
        print(
            String(format: "segment %.1f MB, %d recipient(s), %d iterations", segmentMB, recipients.count, iterations))
        print(String(format: "seal:  %7.2f ms per segment  %7.1f MB/s", sealMs, segmentMB / (sealMs / 1000)))
        let progressiveMs = progressive.milliseconds / Double(iterations)
        print(
            String(
                format: "progressive seal: %7.2f ms per segment  %7.1f MB/s  (%d pieces of %d bytes, each closed)", progressiveMs,
                segmentMB / (progressiveMs / 1000), (size + piece - 1) / piece, piece))
        print(
            String(
                format: "write: %7.2f ms per segment  %7.1f MB/s  (temp + fsync + rename + fsync dir, %@)", writeMs,
                segmentMB / (writeMs / 1000), directory))
    }
}
