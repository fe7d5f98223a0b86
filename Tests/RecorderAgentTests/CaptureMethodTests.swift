import Foundation
import TestSupport
import TestTraits
import Testing

/// MIT-SHM and XGetImage must produce the same picture; remote displays fall back by themselves.
@Suite(.serialized, .realTime)
struct CaptureMethodTests {
    @Test func xgetimageRecordsTheSamePictureAsShm() throws {
        let xvfb = try XvfbServer(width: 800, height: 600)
        let scene = try SceneProcess(display: xvfb.display, scene: "idle")
        defer { scene.stop() }
        _ = try scene.waitForEvents(1)
        let shm = try AgentRun.record(display: xvfb.display, arguments: ["--duration", "2s", "--no-cursor"])
        let xget = try AgentRun.record(
            display: xvfb.display, arguments: ["--duration", "2s", "--no-cursor", "--force-xgetimage"])
        #expect(shm.result.status == 0 && xget.result.status == 0, "\(shm.result.stderr) \(xget.result.stderr)")
        #expect(shm.result.stderr.contains("method=xshm"), "\(shm.result.stderr)")
        #expect(xget.result.stderr.contains("method=xgetimage"), "\(xget.result.stderr)")
        let a = try MediaProbe(path: try #require(shm.segments.first)).frame(shownAt: 1, width: 800, height: 600)
        let b = try MediaProbe(path: try #require(xget.segments.first)).frame(shownAt: 1, width: 800, height: 600)
        let difference = a.meanAbsoluteDifference(b)
        #expect(difference < 1.0, "mean difference \(difference) per channel between the two capture methods")
        // And the picture is the scene, not a blank buffer: the light form panel is there.
        let panel = b.matches(400, 300, 0xEE_EEEE, tolerance: 30)
        #expect(panel, "form panel pixel \(b.pixel(400, 300))")
    }

    @Test func remoteDisplayFallsBackToXGetImage() throws {
        let xvfb = try XvfbServer(width: 640, height: 480, listenTCP: true)
        let scene = try SceneProcess(display: xvfb.display, scene: "idle")
        defer { scene.stop() }
        _ = try scene.waitForEvents(1)
        // Over TCP the server cannot map our 0600 shared memory segment, exactly as on a remote host.
        let run = try AgentRun.record(display: xvfb.tcpDisplay, arguments: ["--duration", "2s"])
        #expect(run.result.status == 0, "\(run.result.stderr)")
        #expect(run.result.stderr.contains("falling back to XGetImage"), "\(run.result.stderr)")
        #expect(run.result.stderr.contains("method=xgetimage"))
        let frame = try MediaProbe(path: try #require(run.segments.first)).frame(shownAt: 1, width: 640, height: 480)
        let panel = frame.matches(400, 300, 0xEE_EEEE, tolerance: 30)
        #expect(panel, "form panel pixel \(frame.pixel(400, 300))")
    }

    @Test func recordsOneMonitor() throws {
        let xvfb = try XvfbServer(width: 1280, height: 720)
        let scene = try SceneProcess(display: xvfb.display, scene: "rectangles", period: 100)
        defer { scene.stop() }
        _ = try scene.waitForEvents(1)
        // A RandR 1.5 monitor 640 wide starting at screen x 200.
        let set = try ProcessRunner.run(
            "xrandr", ["--display", xvfb.display, "--setmonitor", "shifted", "640/170x720/190+200+0", "none"])
        #expect(set.status == 0, "\(set.stderr)")
        let listed = try ProcessRunner.run(
            ProcessRunner.product("recorder-agent"), ["monitors", "--display", xvfb.display])
        #expect(listed.stdout.contains("shifted\t640x720+200+0"), "\(listed.stdout)")
        let run = try AgentRun.record(display: xvfb.display, arguments: ["--duration", "2s", "--monitor", "shifted"])
        #expect(run.result.status == 0, "\(run.result.stderr)")
        let probe = MediaProbe(path: try #require(run.segments.first))
        let stream = try probe.probe().streams[0]
        #expect(stream.width == 640 && stream.height == 720)
        // State 0: red rectangle at screen x 40...240, y 40...190; white square at x 300...420, y 250...370.
        // Recording x maps to screen x + 200, so the red rectangle's right end shows at x < 40 and the
        // square at 100...220. Ignoring the offset (recording screen x 0...640) puts background at
        // (10, 100) and at (150, 300), and fails both checks.
        let frame = try probe.frame(shownAt: 1, width: 640, height: 720)
        let red = frame.matches(10, 100, 0xFF_0000, tolerance: 40)
        #expect(red, "the red rectangle's right end at (10, 100): \(frame.pixel(10, 100))")
        let white = frame.matches(150, 300, 0xFF_FFFF, tolerance: 30)
        #expect(white, "the white square at (150, 300): \(frame.pixel(150, 300))")
        let background = frame.matches(300, 300, 0x20_2020)
        #expect(background, "background at (300, 300): \(frame.pixel(300, 300))")
    }

    @Test func drawsThePointerUnlessDisabled() throws {
        let xvfb = try XvfbServer(width: 640, height: 480)
        let scene = try SceneProcess(display: xvfb.display, scene: "rectangles", period: 100)
        defer { scene.stop() }
        _ = try scene.waitForEvents(1)
        // Xvfb's pointer starts at the screen centre with the default X-shaped root cursor.
        let with = try AgentRun.record(display: xvfb.display, arguments: ["--duration", "1s"])
        let without = try AgentRun.record(display: xvfb.display, arguments: ["--duration", "1s", "--no-cursor"])
        let a = try MediaProbe(path: try #require(with.segments.first)).frame(shownAt: 0.5, width: 640, height: 480)
        let b = try MediaProbe(path: try #require(without.segments.first)).frame(shownAt: 0.5, width: 640, height: 480)
        var differing = 0
        for y in 225..<255 {
            for x in 305..<335 where abs(a.pixel(x, y).r - b.pixel(x, y).r) > 60 { differing += 1 }
        }
        #expect(differing > 20, "pointer pixels around the centre: \(differing)")
    }
}
