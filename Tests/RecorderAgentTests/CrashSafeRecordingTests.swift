import Foundation
import Glibc
import RecorderCore
import TestSupport
import TestTraits
import Testing

/// A killed agent loses at most the last 2 s of its segment in progress: the journal turns into a
/// recovered segment at the next start, in its place in the chain, and it plays the scene at the
/// wall-clock times it was on screen.
@Suite(.serialized, .realTime)
struct CrashSafeRecordingTests {
    /// The rectangles scene changes state every second; 1024×576 holds its pattern.
    static let width = 1024, height = 576

    struct Kill {
        let startedAt: Int64
        let killedAt: Int64
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1e9) }

    static func manifests(in spool: String) throws -> [SegmentManifest] {
        try FileManager.default.contentsOfDirectory(atPath: spool).filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
            .sorted().map { try JSONDecoder().decode(SegmentManifest.self, from: Data(contentsOf: URL(fileURLWithPath: "\(spool)/\($0)"))) }
    }

    static func nanos(_ text: String) -> Int64 {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return Int64((formatter.date(from: text)?.timeIntervalSince1970 ?? 0) * 1e9)
    }

    /// Decrypts a segment and checks it plays, lasts what its manifest says, and shows each scene
    /// state it fully covers at the wall-clock time the scene drew it.
    static func checkPlays(
        _ manifest: SegmentManifest, in spool: String, keys: TestKeyPair, scene: [SceneProcess.Event], work: String
    ) throws {
        let plain = "\(work)/\(manifest.sequence).webm"
        let opened = try ProcessRunner.run(
            "openssl",
            [
                "cms", "-decrypt", "-inform", "DER", "-in", "\(spool)/\(manifest.segmentFile)", "-recip",
                keys.certificate.path, "-inkey", keys.privateKey.path, "-out", plain,
            ])
        #expect(opened.status == 0, "\(manifest.segmentFile): \(opened.stderr)")
        let probe = MediaProbe(path: plain)
        #expect(try probe.decodeErrors() == "", "\(manifest.segmentFile)")
        let duration = Double(try probe.probe().format.duration ?? "0") ?? 0
        #expect(
            abs(duration * 1000 - Double(manifest.durationMs)) <= 250,
            "\(manifest.segmentFile): ffprobe \(duration) s, manifest \(manifest.durationMs) ms")
        let start = nanos(manifest.firstFrameTime)
        var checked = 0
        for (event, next) in zip(scene, scene.dropFirst()) where checked < 2 {
            guard let k = Int(event.event.dropFirst("state-".count)) else { continue }
            // The middle of a state the segment shows whole (the scene holds each for a second).
            let middle = Double((event.wallTimeNanos + next.wallTimeNanos) / 2 - start) / 1e9
            guard middle > 0.4, middle < duration - 0.4 else { continue }
            RecordingPictureTests.expectState(
                k, in: try probe.frame(shownAt: middle, width: width, height: height), "\(manifest.segmentFile) at \(middle) s")
            checked += 1
        }
        #expect(checked > 0 || duration < 1.5, "\(manifest.segmentFile): no scene state checked in \(duration) s")
    }

    /// Every stretch [from, to] of wall time is inside the segments (seams of a frame interval allowed).
    static func uncovered(from: Int64, to: Int64, by manifests: [SegmentManifest]) -> [(Int64, Int64)] {
        let spans = manifests.map { (nanos($0.firstFrameTime), nanos($0.firstFrameTime) + Int64($0.durationMs) * 1_000_000) }
        var gaps: [(Int64, Int64)] = []
        var cursor = from
        for (start, end) in spans.sorted(by: { $0.0 < $1.0 }) where end > cursor {
            if start > cursor + 250_000_000 { gaps.append((cursor, min(start, to))) }
            cursor = max(cursor, end)
            if cursor >= to { break }
        }
        if cursor < to { gaps.append((cursor, to)) }
        return gaps.filter { $0.0 < to }
    }

    @Test func killNineDuringRecordingAndRecoveryLosesAtMostTheLastTwoSeconds() throws {
        let keys = try TestKeyPair(name: "recording key")
        let xvfb = try XvfbServer(width: Self.width, height: Self.height)
        let scene = try SceneProcess(display: xvfb.display, scene: "rectangles", seconds: 300, period: 1)
        defer { scene.stop() }
        _ = try scene.waitForEvents(1)
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("crash-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        let spool = "\(base)/spool"
        // Default 60 s segments: each kill falls inside the first segment, the case that lost everything.
        let arguments = ["--fps", "5", "--recipient", keys.certificate.path, "--state-dir", "\(base)/state", "--agent-id", "ws-crash"]
        // Seeded and printed, so a failing run can be replayed: CRASH_TEST_SEED=<seed> swift test --filter CrashSafeRecordingTests
        let seed = ProcessInfo.processInfo.environment["CRASH_TEST_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0...UInt64.max)
        print("CrashSafeRecordingTests: kill -9 moments from seed \(seed)")
        var generator = SplitMix64(seed: seed)

        var kills: [Kill] = []
        for _ in 0..<3 {
            let agent = try BackgroundAgent(display: xvfb.display, out: spool, arguments: arguments)
            try agent.waitUntilRecording()
            let startedAt = Self.now()
            Thread.sleep(forTimeInterval: Double.random(in: 3...7, using: &generator))
            agent.send(SIGKILL)
            kills.append(Kill(startedAt: startedAt, killedAt: Self.now()))
            _ = agent.wait()
            // The next start recovers; kill it too, at a moment within its recovery or just after.
            let recovering = try BackgroundAgent(display: xvfb.display, out: spool, arguments: arguments)
            Thread.sleep(forTimeInterval: Double.random(in: 0...0.4, using: &generator))
            recovering.send(SIGKILL)
            _ = recovering.wait()
        }
        let last = try AgentRun.recordInto(spool, display: xvfb.display, arguments: arguments + ["--duration", "1s"])
        #expect(last.result.status == 0, "\(last.result.stderr)")

        let verified = try ProcessRunner.run(ProcessRunner.product("recorder-agent"), ["verify", spool])
        #expect(verified.status == 0, "the chain after kill -9 (seed \(seed)): \(verified.stdout)")
        let journals = (try? FileManager.default.contentsOfDirectory(atPath: "\(base)/state/journal")) ?? []
        #expect(journals.allSatisfy { !$0.hasSuffix(".journal") }, "every journal recovered (seed \(seed)): \(journals)")
        let manifests = try Self.manifests(in: spool)
        for kill in kills {
            // Everything but the last 2 s before the kill is in a stored segment.
            let gaps = Self.uncovered(from: kill.startedAt + 500_000_000, to: kill.killedAt - 2_000_000_000, by: manifests)
            #expect(gaps.isEmpty, "seed \(seed): not stored: \(gaps.map { "\(($0.1 - $0.0) / 1_000_000) ms" }) before the kill at \(SegmentManifest.timestamp(unixNanos: kill.killedAt))")
        }
        let recovered = manifests.filter { $0.endReason == "recovered" }
        #expect(recovered.count >= kills.count, "seed \(seed): \(manifests.map(\.endReason))")
        for manifest in recovered {
            #expect(manifest.recovery?.lostAtMostMs == 2000, "\(manifest.segmentFile)")
            try Self.checkPlays(manifest, in: spool, keys: keys, scene: scene.events(), work: base)
        }
    }
}

/// An ext4 filesystem on a loop device, for losing power: `powerLoss()` copies the device as it is —
/// what the filesystem has written to it, none of what still sits in the page cache — and mounts
/// that copy in its place (ext4 replays its journal, as after a real power cut). Mounted with
/// `commit=300` and no lazy initialisation, nothing reaches the device in between unless synced.
final class PowerLossDisk {
    static var available: Bool {
        getuid() == 0 && FileManager.default.fileExists(atPath: "/dev/loop-control")
            && (try? ProcessRunner.run("losetup", ["-f"]).status) == 0
    }

    let directory: String
    var mountPoint: String { "\(directory)/mnt" }
    private var image: String
    private var device: String?

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("power-\(UUID().uuidString)").path
        image = "\(directory)/disk.img"
        try FileManager.default.createDirectory(atPath: "\(directory)/mnt", withIntermediateDirectories: true)
        try Self.run("truncate", ["-s", "256M", image])
        try Self.run("mkfs.ext4", ["-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", image])
        try mount()
    }

    private func mount() throws {
        let attached = try Self.run("losetup", ["-f", "--show", image])
        device = attached.trimmingCharacters(in: .whitespacesAndNewlines)
        try Self.run("mount", ["-o", "commit=300", device!, mountPoint])
    }

    private func unmount() {
        _ = try? ProcessRunner.run("umount", [mountPoint])
        if let device { _ = try? ProcessRunner.run("losetup", ["-d", device]) }
        device = nil
    }

    /// The power goes: the device's contents now are all that survives.
    func powerLoss() throws {
        let after = "\(directory)/after-power-loss.img"
        try Self.run("cp", ["--sparse=always", image, after])
        unmount()
        image = after
        try mount()
    }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let result = try ProcessRunner.run(tool, arguments)
        guard result.status == 0 else { throw TestFailure("\(tool) \(arguments): \(result.stderr)") }
        return result.stdout
    }

    deinit {
        unmount()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

extension CrashSafeRecordingTests {
    @Test(.enabled(if: PowerLossDisk.available, "needs root and loop devices (ext4 on a loop device)"))
    func aPowerLossKeepsWhatWasRecordedUntilTheLastSync() throws {
        let keys = try TestKeyPair(name: "recording key")
        let xvfb = try XvfbServer(width: Self.width, height: Self.height)
        let scene = try SceneProcess(display: xvfb.display, scene: "rectangles", seconds: 300, period: 1)
        defer { scene.stop() }
        _ = try scene.waitForEvents(1)
        let disk = try PowerLossDisk()
        let spool = "\(disk.mountPoint)/spool"
        let arguments = [
            "--fps", "5", "--recipient", keys.certificate.path, "--state-dir", "\(disk.mountPoint)/state", "--agent-id", "ws-power",
            // The 256 MB disk is smaller than the default free-space reserve.
            "--spool-min-free-mb", "16",
        ]
        let seed = ProcessInfo.processInfo.environment["CRASH_TEST_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0...UInt64.max)
        print("CrashSafeRecordingTests: power loss moment from seed \(seed)")
        var generator = SplitMix64(seed: seed)

        let agent = try BackgroundAgent(display: xvfb.display, out: spool, arguments: arguments)
        try agent.waitUntilRecording()
        let startedAt = Self.now()
        Thread.sleep(forTimeInterval: Double.random(in: 4...8, using: &generator))
        // Written and never synced, just before the power goes: it must not survive whole, or this
        // disk does not drop unsynced writes and the test proves nothing.
        let canary = "\(disk.mountPoint)/canary"
        let fd = open(canary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        let unsynced = [UInt8](repeating: 0x5A, count: 1 << 20)
        #expect(fd >= 0 && unsynced.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == unsynced.count)
        close(fd)
        agent.send(SIGKILL)
        let killedAt = Self.now()
        _ = agent.wait()
        try disk.powerLoss()
        let canarySize = (try? FileManager.default.attributesOfItem(atPath: canary)[.size] as? Int) ?? 0
        #expect(canarySize < 1 << 20, "an unsynced file survived the power loss whole: the disk kept the page cache")

        let last = try AgentRun.recordInto(spool, display: xvfb.display, arguments: arguments + ["--duration", "1s"])
        #expect(last.result.status == 0, "\(last.result.stderr)")
        let verified = try ProcessRunner.run(ProcessRunner.product("recorder-agent"), ["verify", spool])
        #expect(verified.status == 0, "the chain after the power loss (seed \(seed)): \(verified.stdout)")
        let manifests = try Self.manifests(in: spool)
        let recovered = try #require(manifests.first { $0.endReason == "recovered" }, "seed \(seed): \(manifests.map(\.endReason))")
        // The journal is synced every 2 s at a checkpoint: what is lost is at most that, and the tick
        // the checkpoint waited for.
        let lostMs = (killedAt - Self.nanos(recovered.firstFrameTime)) / 1_000_000 - Int64(recovered.durationMs)
        print("CrashSafeRecordingTests: the power loss took the last \(lostMs) ms")
        let gaps = Self.uncovered(from: startedAt + 500_000_000, to: killedAt - 2_500_000_000, by: manifests)
        #expect(gaps.isEmpty, "seed \(seed): lost \(lostMs) ms; not stored: \(gaps.map { "\(($0.1 - $0.0) / 1_000_000) ms" })")
        try Self.checkPlays(recovered, in: spool, keys: keys, scene: scene.events(), work: disk.directory)
    }
}
