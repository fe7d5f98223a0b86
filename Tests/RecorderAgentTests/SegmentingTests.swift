import Foundation
import Glibc
import RecorderCore
import TestSupport
import TestTraits
import Testing

/// Segment boundaries: length limit, resolution changes and SIGINT all end a segment as a complete file.
@Suite(.serialized, .realTime)
struct SegmentingTests {
    @Test func cutsAt10SecondsWithoutGapsOrOverlaps() throws {
        let desktop = try LiveDesktop(width: 640, height: 480, seconds: 40)
        defer { desktop.stop() }
        let run = try AgentRun.record(
            display: desktop.display, arguments: ["--duration", "25s", "--segment-length", "10s", "--fps", "5"])
        #expect(run.result.status == 0, "\(run.result.stderr)")
        try #require(run.segments.count == 3, "segments: \(run.segments)")

        let summaries = try run.segments.map { try MediaProbe(path: $0).summary() }
        let frameInterval = 0.2
        let total = summaries.reduce(0) { $0 + $1.durationMs } / 1000
        #expect(abs(total - 25) <= frameInterval, "durations add up to \(total) s")
        #expect(abs(summaries[0].durationMs - 10_000) <= frameInterval * 1000)
        #expect(abs(summaries[1].durationMs - 10_000) <= frameInterval * 1000)
        for (previous, next) in zip(summaries, summaries.dropFirst()) {
            let previousEnd = previous.startWallTimeNanos + Int64(previous.durationMs * 1_000_000)
            let gap = Double(next.startWallTimeNanos - previousEnd) / 1e9
            #expect(abs(gap) <= frameInterval, "gap or overlap of \(gap) s between segments")
        }
        for path in run.segments {
            let probe = MediaProbe(path: path)
            #expect(try probe.decodeErrors() == "", "\(path)")
            let summary = try probe.summary()
            #expect(summary.blocks.first?.isKeyframe == true, "every segment starts with a keyframe")
            let ffprobeDuration = Double(try probe.probe().format.duration ?? "0") ?? 0
            #expect(abs(ffprobeDuration * 1000 - summary.durationMs) < 1, "ffprobe reads our Duration")
        }
    }

    @Test func resolutionChangeStartsANewSegmentAtTheNewSize() throws {
        let desktop = try LiveDesktop(width: 1280, height: 720, seconds: 30)
        defer { desktop.stop() }
        let out = desktop.directory
        let agent = try BackgroundAgent(display: desktop.display, out: out, arguments: ["--duration", "6s"])
        try agent.waitUntilRecording()
        Thread.sleep(forTimeInterval: 1)
        // Xvfb can shrink its framebuffer through RandR (xrandr reports a harmless error the first time).
        _ = try ProcessRunner.run("xrandr", ["--display", desktop.display, "--fb", "1000x700"])
        let status = agent.wait()
        #expect(status == 0, "\(agent.stderr)")
        let segments = AgentRun.segmentFiles(in: out)
        try #require(segments.count == 2, "segments: \(segments); log: \(agent.stderr)")
        let first = try MediaProbe(path: segments[0]).probe().streams[0]
        let second = try MediaProbe(path: segments[1]).probe().streams[0]
        #expect(first.width == 1280 && first.height == 720)
        #expect(second.width == 1000 && second.height == 700)
        #expect(try MediaProbe(path: segments[1]).decodeErrors() == "")
    }

    @Test func sigintFinishesTheSegmentAndExitsZero() throws {
        let desktop = try LiveDesktop(width: 640, height: 480, seconds: 30)
        defer { desktop.stop() }
        let out = desktop.directory
        for signal in [SIGINT, SIGTERM] {
            let directory = "\(out)-\(signal)"
            let agent = try BackgroundAgent(display: desktop.display, out: directory, arguments: [])
            try agent.waitUntilRecording()
            Thread.sleep(forTimeInterval: 3)
            agent.send(signal)
            let status = agent.wait()
            #expect(status == 0, "exit status \(status) after signal \(signal): \(agent.stderr)")
            let segments = AgentRun.segmentFiles(in: directory)
            try #require(segments.count == 1)
            let probe = MediaProbe(path: segments[0])
            #expect(try probe.decodeErrors() == "")
            let duration = try probe.summary().durationMs
            // Capture had started before the 3 s wait, so the segment holds at least that, less a frame or two.
            #expect(duration >= 2500, "duration \(duration) ms for a recording stopped 3 s after it started")
        }
    }
}

extension SegmentingTests {
    @Test func losingTheXServerKeepsTheSegmentAndReportsIt() throws {
        let desktop = try LiveDesktop(width: 640, height: 480, seconds: 30)
        defer { desktop.stop() }
        let out = desktop.directory
        let agent = try BackgroundAgent(display: desktop.display, out: out, arguments: [])
        try agent.waitUntilRecording()
        Thread.sleep(forTimeInterval: 1)
        desktop.xvfb.kill()
        let status = agent.wait()
        #expect(status != 0)
        #expect(agent.stderr.contains("the connection to the X server was lost"), "\(agent.stderr)")
        let segments = AgentRun.segmentFiles(in: out)
        try #require(segments.count == 1, "the segment recorded before the loss must be kept")
        #expect(try MediaProbe(path: segments[0]).decodeErrors() == "")
    }
}

extension SegmentingTests {
    @Test func anOutputFailureStopsTheRecordingWithAnError() throws {
        let desktop = try LiveDesktop(width: 320, height: 240, seconds: 30)
        defer { desktop.stop() }
        let out = desktop.directory
        let agent = try BackgroundAgent(display: desktop.display, out: out, arguments: ["--segment-length", "1s"])
        try agent.waitUntilRecording()
        // Replace the directory by a file: the next segment cannot be written (root ignores chmod).
        try FileManager.default.removeItem(atPath: out)
        _ = FileManager.default.createFile(atPath: out, contents: Data("not a directory".utf8))
        let status = agent.wait()
        #expect(status != 0, "a recording whose segments cannot be stored must not exit 0")
        #expect(agent.stderr.contains("cannot store a segment; stopping the recording"), "\(agent.stderr)")
        #expect(agent.stderr.contains("cannot write \(out)/"), "\(agent.stderr)")
    }
}

/// `recorder-agent record` running in the background, for tests that act while it records.
final class BackgroundAgent {
    private let process: Process
    private let errorFile: URL

    init(display: String, out: String, arguments: [String], environment: [String: String] = [:]) throws {
        (process, errorFile) = try ProcessRunner.launch(
            ProcessRunner.product("recorder-agent"), ["record", "--display", display, "--out", out] + arguments,
            captureStandardError: true, environment: environment)
    }

    func send(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    var stderr: String { (try? String(contentsOf: errorFile, encoding: .utf8)) ?? "" }

    /// Waits for the agent's own word that capture has started (its "recording" log line, which
    /// names the capture method), instead of guessing how long start-up takes.
    func waitUntilRecording() throws {
        guard ProcessRunner.waitForOutput(containing: "method=", in: errorFile, of: process) != nil else {
            throw TestFailure("the agent never started recording: \(stderr)")
        }
    }

    deinit {
        ProcessRunner.kill(process)
        try? FileManager.default.removeItem(at: errorFile)
    }
}
