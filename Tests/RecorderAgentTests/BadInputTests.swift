import Foundation
import TestSupport
import Testing

/// Wrong input gets a precise message and a non-zero exit, never a crash or a silent success.
@Suite struct BadInputTests {
    func record(_ arguments: [String]) throws -> ProcessResult {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString)").path
        return try ProcessRunner.run(ProcessRunner.product("recorder-agent"), ["record", "--out", out] + arguments)
    }

    @Test func unknownDisplay() throws {
        let result = try record(["--display", ":987", "--duration", "1s"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("cannot open X display \":987\""), "\(result.stderr)")
        #expect(!result.stderr.contains("Fatal error"))
    }

    @Test(arguments: ["0", "-5", "61", "abc"])
    func badFrameRates(_ fps: String) throws {
        let result = try record(["--display", ":987", "--fps=\(fps)"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("fps"), "\(result.stderr)")
    }

    @Test func badDurationsAndBitrates() throws {
        let duration = try record(["--display", ":987", "--duration", "ten seconds"])
        #expect(duration.status != 0)
        #expect(duration.stderr.contains("invalid duration \"ten seconds\""), "\(duration.stderr)")
        let bitrate = try record(["--display", ":987", "--bitrate", "1"])
        #expect(bitrate.status != 0)
        #expect(bitrate.stderr.contains("bitrate"), "\(bitrate.stderr)")
        let segment = try record(["--display", ":987", "--segment-length", "0s"])
        #expect(segment.status != 0)
        #expect(segment.stderr.contains("segment-length"), "\(segment.stderr)")
    }

    @Test func unknownMonitorListsTheRealOnes() throws {
        let xvfb = try XvfbServer(width: 640, height: 480)
        let result = try record(["--display", xvfb.display, "--duration", "1s", "--monitor", "HDMI-9"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("no monitor named \"HDMI-9\""), "\(result.stderr)")
        #expect(result.stderr.contains("available monitors: screen"), "\(result.stderr)")
    }

    @Test func unwritableOutputDirectory() throws {
        let result = try ProcessRunner.run(
            ProcessRunner.product("recorder-agent"), ["record", "--display", ":987", "--out", "/proc/forbidden"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("/proc/forbidden"), "\(result.stderr)")
    }
}

extension BadInputTests {
    @Test func badConfigurationFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("agent-\(UUID().uuidString).json")
        try Data("{\"recording\":{\"fps\":-1}}".utf8).write(to: file)
        let result = try ProcessRunner.run(
            ProcessRunner.product("recorder-agent"), ["record", "--config", file.path, "--out", "/tmp/unused"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("configuration \(file.path): invalid setting fps"), "\(result.stderr)")
        let missing = try ProcessRunner.run(
            ProcessRunner.product("recorder-agent"),
            ["record", "--config", "/nonexistent.json", "--out", "/tmp/unused"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("/nonexistent.json: cannot read the file"), "\(missing.stderr)")
    }
}
