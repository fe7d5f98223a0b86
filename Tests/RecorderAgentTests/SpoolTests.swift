import Foundation
import Glibc
import TestSupport
import TestTraits
import Testing

/// The spool keeps every sealed segment through kill -9, and never fills the disk.
@Suite(.serialized, .realTime)
struct SpoolTests {
    @Test func killNineAtRandomMomentsLosesNoSealedSegment() throws {
        let keys = try TestKeyPair(name: "recording key")
        let desktop = try LiveDesktop(width: 320, height: 240, seconds: 60)
        defer { desktop.stop() }
        let base = desktop.directory
        let arguments = [
            "--segment-length", "1s", "--fps", "10", "--recipient", keys.certificate.path, "--state-dir",
            "\(base)/state",
            "--agent-id", "ws-kill",
        ]
        // Seeded, and printed, so a failing run can be replayed: SPOOL_TEST_SEED=<seed> swift test --filter SpoolTests
        let seed = ProcessInfo.processInfo.environment["SPOOL_TEST_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0...UInt64.max)
        print("SpoolTests: kill -9 moments from seed \(seed)")
        var generator = SplitMix64(seed: seed)
        func sealedNames() throws -> Set<String> {
            Set(try FileManager.default.contentsOfDirectory(atPath: "\(base)/spool").filter { $0.hasSuffix(".webm.p7m") })
        }
        var seenAfterKills: Set<String> = []
        for _ in 0..<6 {
            let agent = try BackgroundAgent(display: desktop.display, out: "\(base)/spool", arguments: arguments)
            try agent.waitUntilRecording()
            Thread.sleep(forTimeInterval: Double.random(in: 0.2...2.6, using: &generator))
            agent.send(SIGKILL)
            _ = agent.wait()
            seenAfterKills.formUnion(try sealedNames())
        }
        // A clean run after the crashes recovers the spool and continues the chain.
        let last = try AgentRun.recordInto(
            "\(base)/spool", display: desktop.display, arguments: arguments + ["--duration", "1.5s"])
        #expect(last.result.status == 0, "\(last.result.stderr)")

        let verified = try ProcessRunner.run(ProcessRunner.product("recorder-agent"), ["verify", "\(base)/spool"])
        #expect(verified.status == 0, "chain after kill -9 (seed \(seed)): \(verified.stdout)")
        let names = try FileManager.default.contentsOfDirectory(atPath: "\(base)/spool")
        #expect(!names.contains { $0.hasSuffix(".tmp") }, "torn temporary files are cleaned up: \(names)")
        let sealed = names.filter { $0.hasSuffix(".webm.p7m") }.sorted()
        // What the kills left sealed is all still there, and the clean run added its own.
        #expect(seenAfterKills.isSubset(of: Set(sealed)), "lost after kill -9 (seed \(seed)): \(seenAfterKills.subtracting(sealed))")
        #expect(sealed.count > seenAfterKills.count, "the clean run sealed a segment (seed \(seed)): \(sealed)")
        for name in sealed {
            let opened = try ProcessRunner.run(
                "openssl",
                [
                    "cms", "-decrypt", "-inform", "DER", "-in", "\(base)/spool/\(name)", "-recip",
                    keys.certificate.path, "-inkey", keys.privateKey.path, "-out", "\(base)/plain.webm",
                ])
            #expect(opened.status == 0, "\(name): \(opened.stderr)")
            #expect(try MediaProbe(path: "\(base)/plain.webm").decodeErrors() == "", "\(name)")
        }
    }

    @Test func aFullDiskRefusesNewSegmentsLoudlyAndKeepsRecording() throws {
        let keys = try TestKeyPair(name: "recording key")
        let desktop = try LiveDesktop(width: 320, height: 240, seconds: 30)
        defer { desktop.stop() }
        let base = desktop.directory
        // Demand more free space than any disk has: every segment is refused.
        let run = try AgentRun.recordInto(
            "\(base)/spool", display: desktop.display,
            arguments: [
                "--duration", "2.5s", "--segment-length", "1s", "--recipient", keys.certificate.path, "--state-dir",
                "\(base)/state", "--spool-min-free-mb", "1000000000",
            ])
        #expect(run.result.status == 0, "the recorder keeps running: \(run.result.stderr)")
        #expect(run.result.stderr.contains("segment refused, recording continues"), "\(run.result.stderr)")
        #expect(run.result.stderr.contains("disk low"), "\(run.result.stderr)")
        #expect(run.segments.isEmpty)
        let status = try ProcessRunner.run(
            ProcessRunner.product("recorder-agent"),
            ["status", "--state-dir", "\(base)/state", "--out", "\(base)/spool"])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("refused: 3"), "\(status.stdout)")
        #expect(status.stdout.contains("last error: disk low"), "\(status.stdout)")
        #expect(status.stdout.contains("pending segments: 0"), "\(status.stdout)")
    }
}

/// A seedable generator (SplitMix64), so a random schedule can be replayed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
