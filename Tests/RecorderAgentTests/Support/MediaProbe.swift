import Foundation
import RecorderCore
import TestSupport

/// ffprobe/ffmpeg as the independent judge of what we wrote.
struct MediaProbe {
    let path: String

    struct Stream: Decodable {
        let codec_name: String
        let width: Int
        let height: Int
    }
    struct Format: Decodable {
        let duration: String?
        let format_name: String
    }
    struct Output: Decodable {
        let streams: [Stream]
        let format: Format
    }

    func probe() throws -> Output {
        let result = try ProcessRunner.run(
            "ffprobe", ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", path])
        guard result.status == 0 else { throw TestFailure("ffprobe failed on \(path): \(result.stderr)") }
        return try JSONDecoder().decode(Output.self, from: result.stdoutData)
    }

    /// Everything ffmpeg complains about while decoding the whole file (empty for a clean file).
    func decodeErrors() throws -> String {
        let result = try ProcessRunner.run("ffmpeg", ["-nostdin", "-v", "error", "-i", path, "-f", "null", "-"])
        return result.stderr + (result.status == 0 ? "" : "exit status \(result.status)")
    }

    /// The picture a player shows at `seconds`: the last frame whose timestamp is not after it.
    /// (`ffmpeg -ss` returns the first frame at or after a time, which for our variable frame rate is
    /// the *next* change.) Our files hold few frames, so decoding every frame up to `seconds` is cheap.
    func frame(shownAt seconds: Double, width: Int, height: Int) throws -> RGBFrame {
        let result = try ProcessRunner.run(
            "ffmpeg",
            [
                "-nostdin", "-v", "error", "-i", path, "-t", String(format: "%.3f", seconds + 0.001),
                "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
            ])
        let frameSize = width * height * 3
        guard result.status == 0, result.stdoutData.count >= frameSize, result.stdoutData.count % frameSize == 0 else {
            throw TestFailure(
                "ffmpeg could not decode up to \(seconds) s of \(path) (\(result.stdoutData.count) bytes): \(result.stderr)"
            )
        }
        return RGBFrame(width: width, height: height, bytes: [UInt8](result.stdoutData.suffix(frameSize)))
    }

    /// Seeks like a player jumping to `seconds` (input seeking via the Cues) and decodes one frame.
    func seekFrame(at seconds: Double, width: Int, height: Int) throws -> RGBFrame {
        let result = try ProcessRunner.run(
            "ffmpeg",
            [
                "-nostdin", "-v", "error", "-ss", String(format: "%.3f", seconds), "-i", path, "-frames:v", "1", "-f",
                "rawvideo", "-pix_fmt", "rgb24", "-",
            ])
        guard result.status == 0, result.stdoutData.count == width * height * 3 else {
            throw TestFailure("ffmpeg could not seek to \(seconds) s of \(path): \(result.stderr)")
        }
        return RGBFrame(width: width, height: height, bytes: [UInt8](result.stdoutData))
    }

    func summary() throws -> WebMFileSummary {
        try WebMFileSummary.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    }
}

struct RGBFrame {
    let width: Int
    let height: Int
    let bytes: [UInt8]

    func pixel(_ x: Int, _ y: Int) -> (r: Int, g: Int, b: Int) {
        let offset = (y * width + x) * 3
        return (Int(bytes[offset]), Int(bytes[offset + 1]), Int(bytes[offset + 2]))
    }

    /// True when the pixel is within `tolerance` of `rgb` (0xRRGGBB) on every channel (VP8 is lossy).
    func matches(_ x: Int, _ y: Int, _ rgb: UInt, tolerance: Int = 40) -> Bool {
        let p = pixel(x, y)
        return abs(p.r - Int(rgb >> 16 & 0xFF)) <= tolerance && abs(p.g - Int(rgb >> 8 & 0xFF)) <= tolerance
            && abs(p.b - Int(rgb & 0xFF)) <= tolerance
    }

    /// Mean absolute difference per channel against another frame of the same size.
    func meanAbsoluteDifference(_ other: RGBFrame) -> Double {
        var total = 0
        for index in bytes.indices { total += abs(Int(bytes[index]) - Int(other.bytes[index])) }
        return Double(total) / Double(bytes.count)
    }
}

/// Runs `recorder-agent` and lists the segments it wrote.
struct AgentRun {
    let result: ProcessResult
    let segments: [String]

    static func record(display: String, arguments: [String], environment: [String: String] = [:]) throws -> AgentRun {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("rec-\(UUID().uuidString)").path
        return try recordInto(out, display: display, arguments: arguments, environment: environment)
    }

    static func recordInto(_ out: String, display: String, arguments: [String], environment: [String: String] = [:])
        throws -> AgentRun
    {
        let result = try ProcessRunner.run(
            ProcessRunner.product("recorder-agent"), ["record", "--display", display, "--out", out] + arguments,
            environment: environment)
        return AgentRun(result: result, segments: segmentFiles(in: out))
    }

    static func segmentFiles(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".webm") || $0.hasSuffix(".webm.p7m") }.sorted().map { "\(directory)/\($0)" }
    }
}
