import Foundation
import RecorderCore
import TestSupport
import TestTraits
import Testing

/// The recorder against a real Xvfb, with ffmpeg/ffprobe as the judge of the files it writes.
@Suite(.serialized, .realTime)
struct RecordingPictureTests {
    static let palette: [UInt] = [0xFF_0000, 0x00_FF00, 0x00_00FF, 0xFF_FF00]

    /// Checks the test pattern of state `k` in a decoded frame: rectangle A's colour, square B's position.
    static func expectState(_ k: Int, in frame: RGBFrame, _ comment: String) {
        // Booleans first: #expect would otherwise print the whole frame on failure.
        let colourMatches = frame.matches(140, 115, palette[k % 4])
        #expect(colourMatches, "rectangle A colour in state \(k) (\(comment)): \(frame.pixel(140, 115))")
        for slot in 0..<5 {
            let x = 300 + 100 * slot + 50  // squares overlap by 20 px; x+20..x+100 belongs to one slot only
            let expected: UInt = slot == k % 5 ? 0xFF_FFFF : 0x20_2020
            let slotMatches = frame.matches(x, 255, expected)
            #expect(slotMatches, "square B slot \(slot) in state \(k) (\(comment)): \(frame.pixel(x, 255))")
        }
    }

    @Test func recordsKnownSceneWithRightPixelsDurationAndTiming() throws {
        let xvfb = try XvfbServer(width: 1280, height: 720)
        let scene = try SceneProcess(display: xvfb.display, scene: "rectangles", seconds: 12, period: 2)
        defer { scene.stop() }
        _ = try scene.waitForEvents(1)
        let run = try AgentRun.record(display: xvfb.display, arguments: ["--duration", "9s", "--fps", "5"])
        #expect(run.result.status == 0, "\(run.result.stderr)")
        try #require(run.segments.count == 1)
        let probe = MediaProbe(path: run.segments[0])

        let info = try probe.probe()
        #expect(info.streams.first?.codec_name == "vp8")
        #expect(info.streams.first?.width == 1280)
        #expect(info.streams.first?.height == 720)
        let duration = Double(info.format.duration ?? "0") ?? 0
        #expect(abs(duration - 9) <= 0.2, "duration \(duration) s, expected 9 s within one frame interval")
        #expect(try probe.decodeErrors() == "")

        // Sample every state that the recording fully covers in the middle of its stable period.
        let summary = try probe.summary()
        let events = scene.events()
        var checked = 0
        for (index, event) in events.enumerated() {
            guard let k = Int(event.event.dropFirst("state-".count)) else { continue }
            let offset = Double(event.wallTimeNanos - summary.startWallTimeNanos) / 1e9 + 1.0
            guard offset > 0.3, offset < duration - 0.3, index + 1 < events.count else { continue }
            Self.expectState(k, in: try probe.frame(shownAt: offset, width: 1280, height: 720), "t=\(offset)s")
            checked += 1
        }
        #expect(checked >= 3, "the 9 s recording should cover at least 3 full scene states, covered \(checked)")

        // No change is dropped: each state change has a frame between it and the next change.
        let frameWallTimes = summary.blocks.map { summary.startWallTimeNanos + $0.timestampMs * 1_000_000 }
        for (event, next) in zip(events, events.dropFirst()) where event.wallTimeNanos > summary.startWallTimeNanos {
            let end = summary.startWallTimeNanos + Int64(duration * 1e9)
            guard next.wallTimeNanos < end else { continue }
            #expect(
                frameWallTimes.contains { $0 >= event.wallTimeNanos && $0 < next.wallTimeNanos },
                "no frame recorded between \(event.event) and \(next.event)")
        }
    }

    @Test func seeksToTheMiddleUsingCues() throws {
        let desktop = try LiveDesktop(width: 800, height: 600, seconds: 10)
        defer { desktop.stop() }
        let run = try AgentRun.record(
            display: desktop.display, arguments: ["--duration", "6s", "--keyframe-interval", "2s"])
        #expect(run.result.status == 0, "\(run.result.stderr)")
        try #require(run.segments.count == 1)
        let probe = MediaProbe(path: run.segments[0])
        let summary = try probe.summary()
        #expect(summary.cuePoints.count >= 3, "one cue per keyframe: \(summary.cuePoints)")
        #expect(summary.cuePoints.first?.timeMs == 0)
        _ = try probe.seekFrame(at: 3.1, width: 800, height: 600)
        // ffprobe reads the same index: seeking by it lands on keyframes.
        let packets = try ProcessRunner.run(
            "ffprobe",
            [
                "-v", "error", "-read_intervals", "3%+#1", "-select_streams", "v", "-show_entries",
                "packet=pts_time,flags", "-of", "csv=p=0", run.segments[0],
            ])
        #expect(
            packets.status == 0 && packets.stdout.contains("K"), "seek by cues: \(packets.stdout) \(packets.stderr)")
    }

    @Test func recordsOddSizedScreens() throws {
        let xvfb = try XvfbServer(width: 1366, height: 767)
        let scene = try SceneProcess(display: xvfb.display, scene: "rectangles", seconds: 8, period: 2)
        defer { scene.stop() }
        _ = try scene.waitForEvents(1)
        let run = try AgentRun.record(display: xvfb.display, arguments: ["--duration", "3s"])
        #expect(run.result.status == 0, "\(run.result.stderr)")
        try #require(run.segments.count == 1)
        let probe = MediaProbe(path: run.segments[0])
        let info = try probe.probe()
        #expect(info.streams.first?.width == 1366)
        #expect(info.streams.first?.height == 767)
        #expect(try probe.decodeErrors() == "")
        let frame = try probe.frame(shownAt: 1.5, width: 1366, height: 767)
        let state = scene.events().last {
            $0.wallTimeNanos <= (try! probe.summary()).startWallTimeNanos + 1_500_000_000
        }
        let k = Int(state?.event.dropFirst("state-".count) ?? "0") ?? 0
        Self.expectState(k, in: frame, "odd size")
        // The last column and row are real picture, not garbage from a stride error.
        let cornerMatches = frame.matches(1365, 766, 0x20_2020)
        #expect(cornerMatches, "bottom-right pixel \(frame.pixel(1365, 766))")
    }
}
