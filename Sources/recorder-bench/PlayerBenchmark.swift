import ArgumentParser
import CollectorCore
import CollectorHTTP
import Foundation
import Hummingbird
import Logging
import RecorderCore
import TestSupport
import WebDAV

/// The player on a long call, in headless Chromium against a live collector: an hour (by default) of
/// screen in 60 s VP8 segments and an hour of G.711-rate voice, sealed as the collector stores them.
/// Measured from the page itself: time to the first frame on opening the call and after seeking near
/// its end, screen against voice after seeks spread over the call, and while playing at 2× across
/// several segment switches late in the call. Figures printed; nothing asserted (the tests do that).
struct PlayerBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "player", abstract: "First frame and screen/voice drift on an hour-long call, in Chromium.")

    @Option(help: "Length of the call in minutes.") var minutes = 60
    @Option(help: "Seconds of playing at 2× measured near the end.") var playSeconds = 90
    @Flag(help: "Open every recording whole (the baseline) instead of large ones by ranges.") var openWhole = false

    func run() async throws {
        guard Browser.isAvailable else { throw ValidationError("needs chromium and chromium-driver (scripts/install-deps)") }
        guard (2...600).contains(minutes), (5...1800).contains(playSeconds), Double(playSeconds) * 2 + 10 < Double(minutes * 60) else {
            throw ValidationError("--minutes is 2 to 600 and --play-seconds 5 to 1800, with twice the playing shorter than the call")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-player-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        var opened = try await Collector.open(
            dataDirectory: directory.appendingPathComponent("collector"), hashing: .fast, recordingKeyBits: 2048, logger: logger)
        if openWhole { opened.rangedThreshold = .max }
        let collector = opened
        let made = Date()
        try await makeCall(collector, directory: directory)
        print("a \(minutes)-minute call catalogued in \(String(format: "%.1f", Date().timeIntervalSince(made))) s")
        // The peak from here on is the playing's, not the making of the call (Linux: clear_refs 5).
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        let port = Int.random(in: 20_000..<40_000)
        let application = try CollectorApplication.make(collector: collector, host: "127.0.0.1", port: port, logger: logger)
        let server = Task { try await application.runService() }
        defer { server.cancel() }
        try await Task.sleep(for: .seconds(1))
        let base = "http://localhost:\(port)"
        let figures = try await withCheckedThrowingContinuation { (done: CheckedContinuation<[String], any Error>) in
            Thread.detachNewThread { done.resume(with: Result { try measure(base: base) }) }
        }
        for line in figures { print(line) }
        // The collector runs in this process: its peak resident memory over the whole run.
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        if let peak = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) {
            print("peak resident memory while playing (\(openWhole ? "every recording opened whole" : "large ones by ranges")): \(peak.dropFirst(6).trimmingCharacters(in: .whitespaces))")
        }
        server.cancel()
        await collector.close()
    }

    static let start = "2026-12-01T10:00:00.000Z"

    private func makeCall(_ collector: Collector, directory: URL) async throws {
        let (pbx, _) = try await collector.integrations.create(name: "pbx", kind: .webhook, by: .system)
        let callStart = CallEvent.parseTime(Self.start)!
        let agent = SimulatedAgent(id: "ws-long", nodePath: "/", epoch: callStart.addingTimeInterval(-60))
        let code = try await collector.agents.makeCode(nodePath: "/", by: .system)
        _ = try await collector.agents.enrol(
            code: code.code, agentId: agent.id, hostname: "ws-long", signingKey: agent.signer.publicKeyBase64, source: "127.0.0.1")
        _ = try await collector.agentIdentities.set(integration: "pbx", externalId: "agent-1", agentId: agent.id, by: .system)
        let end = Timestamp.string(callStart.addingTimeInterval(Double(minutes) * 60))
        let events = [
            #"{"event_id":"e1","type":"leg.started","occurred_at":"\#(Self.start)","interaction_id":"long-call","leg_id":"l","agent_id":"agent-1","direction":"inbound"}"#,
            #"{"event_id":"e2","type":"leg.ended","occurred_at":"\#(end)","interaction_id":"long-call","leg_id":"l"}"#,
        ]
        _ = try await collector.callEvents.accept(Data(#"{"events":[\#(events.joined(separator: ","))]}"#.utf8), from: pbx, source: "bench")
        // One minute of a moving test pattern (720p, 5 fps, a keyframe every 5 s), sealed once per segment.
        let segmentFile = directory.appendingPathComponent("minute.webm").path
        try Self.tool("ffmpeg", [
            "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=1280x720:r=5:d=60", "-c:v", "libvpx", "-b:v", "300k", "-g", "25",
            "-auto-alt-ref", "0", "-y", segmentFile,
        ])
        let plain = [UInt8](try Data(contentsOf: URL(fileURLWithPath: segmentFile)))
        let recipients = try await collector.recordingKeys.active().map { try SealingRecipient(certificatePEM: $0.certificatePEM) }
        let enrolled = try await collector.agents.get(agent.id)
        for _ in 0..<minutes {
            let sealed = try SegmentSealer.seal(plain, for: recipients)
            let segment = try agent.nextSegment(callId: "long-call", sealed: Data(sealed)) {
                $0.legs = [CallLeg(interactionId: "long-call", legId: "l")]
                $0.durationMs = 60_000
                $0.frameCount = 300
            }
            let url = try collector.builtinStore().url(StorePath(components: segment.objectPath))
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try segment.sealed.write(to: url)
            try segment.manifestBytes.write(to: SimulatedAgent.manifestURL(of: url))
            _ = try await collector.acceptManifest(segment.manifestBytes, from: enrolled, source: "bench")
        }
        // The call's voice: 8 kHz 16-bit mono, a tone whose pitch steps each minute.
        let voice = directory.appendingPathComponent("voice.wav").path
        try Self.tool("ffmpeg", [
            "-v", "error", "-f", "lavfi", "-i", "aevalsrc=0.3*sin(2*PI*(300+10*floor(t/60))*t):s=8000:d=\(minutes * 60)",
            "-c:a", "pcm_s16le", "-ac", "1", "-y", voice,
        ])
        _ = try await collector.ingestVoice(
            [UInt8](try Data(contentsOf: URL(fileURLWithPath: voice))), contentType: "audio/wav",
            metadata: VoiceMetadata(interactionId: "long-call", legId: "l", startedAt: Self.start, agentId: "agent-1", channelLayout: [.mixed]),
            integration: "pbx", deliveredBy: "put")
        try await collector.users.create(
            username: "qa", password: "bench password one", profile: .init(role: .qa, scopes: ["/"]), by: .system)
    }

    static func tool(_ name: String, _ arguments: [String]) throws {
        let result = try ProcessRunner.run(name, arguments)
        guard result.status == 0 else { throw ValidationError("\(name): \(result.stderr)") }
    }

    /// In the page: milliseconds from a seek to `arguments[0]` s until the frame there is showing
    /// (the video's element visible, decoded, not seeking, at that moment).
    static let seekToFrame = """
        const done = arguments[arguments.length - 1];
        const target = arguments[0];
        const from = performance.now();
        window.player.seek(target);
        const look = () => {
          const s = window.player.state();
          const video = [...document.querySelectorAll('video.screen')].find((v) => v.offsetParent !== null);
          if (s.video !== null && s.placeholder === null && video && video.readyState >= 2 && !video.seeking
              && Math.abs(s.video - target) < 0.25) done(performance.now() - from); else requestAnimationFrame(look);
        };
        look();
        """

    private func measure(base: String) throws -> [String] {
        var lines: [String] = []
        let browser = try Browser()
        defer { browser.stop() }
        try browser.go("\(base)/app/")
        try browser.wait(for: "document.querySelector('#sign-in')", "the sign-in form")
        try browser.run(
            "const f = document.querySelector('#sign-in'); f.username.value = 'qa'; f.password.value = 'bench password one'; f.requestSubmit();")
        try browser.wait(for: "document.querySelector('#calls a.call-link')", "the call list")
        // Opening the call: from the click to the first frame, as the page measures it.
        let opened = try browser.runAsync(
            """
            const done = arguments[arguments.length - 1];
            const from = performance.now();
            document.querySelector('#calls a.call-link').click();
            const look = () => {
              const s = window.player && window.player.state();
              if (s && s.video !== null && s.placeholder === null) done(performance.now() - from); else requestAnimationFrame(look);
            };
            look();
            """, timeout: 120) as? NSNumber
        lines.append(String(format: "first frame on opening the %d-minute call: %.0f ms", minutes, opened?.doubleValue ?? -1))
        let total = Double(minutes * 60)
        let near = max(total - 300, (total * 0.9).rounded())
        let late = try browser.runAsync(Self.seekToFrame, [near], timeout: 120) as? NSNumber
        lines.append(String(format: "first frame after seeking to %@: %.0f ms", clock(near), late?.doubleValue ?? -1))

        // Seeks spread over the call, then one second of playing after each: the worst gap.
        var worstAfterSeek: [(String, Double)] = []
        for fraction in [0.02, 0.13, 0.27, 0.41, 0.5, 0.62, 0.77, 0.88, 0.95, 0.99] {
            let target = (total * fraction).rounded()
            try browser.run("window.player.pause(); window.player.setRate(1); window.player.seek(arguments[0]); window.player.play();", [target])
            let drifts = try samples(browser, count: 20, every: 50)
            worstAfterSeek.append((clock(target), drifts.max() ?? .nan))
        }
        lines.append("screen against voice after seeking, worst of 20 samples in the second after each seek (ms):")
        lines.append("  " + worstAfterSeek.map { "\($0.0) \(Int(($0.1 * 1000).rounded()))" }.joined(separator: ", "))

        // Playing at 2× near the end, across segment switches.
        try browser.run("window.player.pause(); window.player.seek(arguments[0]); window.player.setRate(2); window.player.play();", [total - Double(playSeconds) * 2 - 10])
        let drifts = try samples(browser, count: playSeconds * 10, every: 100).sorted()
        if !drifts.isEmpty {
            lines.append(String(
                format: "playing at 2× for %d s (%@ of the call, %d samples): median %.0f ms, p95 %.0f ms, worst %.0f ms",
                playSeconds, clock(Double(playSeconds) * 2), drifts.count, drifts[drifts.count / 2] * 1000,
                drifts[Int(Double(drifts.count) * 0.95)] * 1000, drifts.last! * 1000))
        }
        try browser.run("window.player.pause();")
        return lines
    }

    /// |screen − voice| in seconds, `count` times `every` ms apart, from 300 ms after playing starts.
    private func samples(_ browser: Browser, count: Int, every: Int) throws -> [Double] {
        try browser.playerDrifts(count: count, every: every, after: 300)
    }

    private func clock(_ seconds: Double) -> String {
        let whole = Int(seconds)
        return String(format: "%d:%02d", whole / 60, whole % 60)
    }
}
