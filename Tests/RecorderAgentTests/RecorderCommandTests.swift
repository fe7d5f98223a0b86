import Foundation
import Logging
import RecorderAgent
import RecorderCore
import Synchronization
import TestSupport
import TestTraits
import Testing

/// The recorder under commands from the call state machine, on a real Xvfb: cuts at call boundaries
/// carry the calls, and a PCI pause captures nothing — a marker colour drawn only while paused appears
/// in no frame of any segment (while the same marker drawn during recording is found, so the check can fail).
@Suite(.serialized, .realTime)
struct RecorderCommandTests {
    /// Every pixel of every frame of `segment`, decoded by ffmpeg; true when one is (near) magenta.
    static func containsMagenta(_ segment: RecordedSegment) throws -> Bool {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pci-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("s.webm")
        let output = directory.appendingPathComponent("s.rgb")
        try Data(try #require(segment.plainBytes)).write(to: input)
        let decoded = try ProcessRunner.run(
            "ffmpeg", ["-nostdin", "-v", "error", "-i", input.path, "-f", "rawvideo", "-pix_fmt", "rgb24", output.path])
        guard decoded.status == 0 else { throw TestFailure("ffmpeg: \(decoded.stderr)") }
        let pixels = try Data(contentsOf: output)
        return pixels.withUnsafeBytes { bytes in
            stride(from: 0, to: bytes.count - 2, by: 3).contains { i in
                bytes[i] > 200 && bytes[i + 1] < 70 && bytes[i + 2] > 200
            }
        }
    }

    @Test func cutsCarryTheCallsAndAPauseCapturesNothing() async throws {
        let xvfb = try XvfbServer(width: 320, height: 240)
        func root(_ colour: String) throws {
            let set = try ProcessRunner.run("xsetroot", ["-display", xvfb.display, "-solid", colour])
            guard set.status == 0 else { throw TestFailure("xsetroot: \(set.stderr)") }
        }
        try root("#202020")
        var settings = RecordingSettings()
        settings.framesPerSecond = 10
        settings.drawCursor = false
        let recorder = ScreenRecorder(displayName: xvfb.display, settings: settings, logger: Logger(label: "pci"))
        let collected = Mutex<[RecordedSegment]>([])
        let consumer = Task {
            for await segment in recorder.segments { collected.withLock { $0.append(segment) } }
        }
        _ = try await recorder.start(duration: nil)
        try await Task.sleep(for: .milliseconds(500))
        let leg1 = CallLeg(interactionId: "call-1", legId: "leg-1")
        await recorder.perform(.cut(legs: [leg1]))
        try await Task.sleep(for: .milliseconds(500))
        try root("#303030")  // something to capture in call-1's segment
        // On hold from here through the pause and into the next segment, until the cut to call-2.
        await recorder.perform(.hold(leg: leg1, held: true))
        try await Task.sleep(for: .milliseconds(300))
        await recorder.perform(.pause(reason: "card number"))
        // Paused: the card data (magenta) is on screen for a second and must not be captured.
        try root("#FF00FF")
        try await Task.sleep(for: .seconds(1))
        try root("#202020")
        await recorder.perform(.resume)
        try await Task.sleep(for: .milliseconds(500))
        // The same marker while recording is found: the check below can see it.
        await recorder.perform(.cut(legs: [CallLeg(interactionId: "call-2", legId: "leg-2")]))
        try root("#FF00FF")
        try await Task.sleep(for: .milliseconds(500))
        recorder.stop()
        _ = try await recorder.finished()
        await consumer.value
        let segments = collected.withLock { $0 }

        try #require(segments.count == 4, "\(segments.map { ($0.endReason, $0.callIds) })")
        #expect(segments.map(\.endReason) == [.callBoundary, .paused, .callBoundary, .stopped])
        #expect(segments.map(\.callIds) == [[], ["call-1"], ["call-1"], ["call-2"]])
        // The hold spans two segments: each names the part within it, clipped to its own bounds.
        #expect(segments.map(\.holds.count) == [0, 1, 1, 0])
        for index in [1, 2] {
            let segment = segments[index]
            guard let hold = segment.holds.first, let from = CallEvent.parseTime(hold.from),
                let to = CallEvent.parseTime(hold.to)
            else { continue }
            #expect(hold.legId == "leg-1" && hold.interactionId == "call-1")
            let start = Double(segment.startWallTimeNanos) / 1e9
            #expect(from.timeIntervalSince1970 >= start - 0.001 && to > from)
            #expect(to.timeIntervalSince1970 <= start + segment.durationMs / 1000 + 0.001)
        }
        #expect(segments[2].pauseGaps.count == 1 && segments[2].pauseGaps.first?.reason == "card number")
        if let gap = segments[2].pauseGaps.first, let from = CallEvent.parseTime(gap.from), let to = CallEvent.parseTime(gap.to) {
            #expect(to.timeIntervalSince(from) >= 1, "the gap covers the second the card was shown")
        }
        for (index, segment) in segments.enumerated() {
            let magenta = try Self.containsMagenta(segment)
            #expect(magenta == (index == 3), "segment \(index + 1) (\(segment.callIds)) \(magenta ? "shows" : "lacks") the marker")
        }
    }
}
