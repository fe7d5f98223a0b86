import CollectorCore
import Foundation
import Glibc
import RecorderCore
import TestSupport
import TestTraits
import Testing

/// A softphone drives recording, live: real baresip phones place a real SIP call with real RTP audio
/// (espeak-ng speech through `aufile`) from a customer to agent A, who holds it, pauses the recording
/// for a card number, resumes and blind-transfers it to agent B (a REFER: the customer's phone calls B
/// with a new Call-ID). Each workstation's agent follows its own phone's ctrl_tcp socket and records
/// its own leg on its own display; B's clock runs five minutes fast. The phones' own recordings
/// (`sndfile`) are imported as voice, and each call's timeline lines screen and voice up. Everything
/// runs in a network namespace of its own (baresip needs a non-loopback address; see TEST-PEERS.md).
@Suite(
    .serialized, .realTime,
    .enabled(if: NetworkNamespace.isAvailable, "network namespaces need root (CI runs as root)"))
struct SoftphoneCallTests {
    let agentTool = ProcessRunner.product("recorder-agent")

    @Test func aRealCallHeldPausedAndBlindTransferredIsRecordedAtEachWorkstationAndLinesUpWithItsVoice() throws {
        let namespace = try NetworkNamespace()
        defer { namespace.remove() }
        let collector = try CollectorProcess(namespace: namespace)
        defer { collector.stop() }
        // Two workstations, each with its own display; B's clock runs five minutes fast (libfaketime, for
        // its agent and its softphone alike, as on a real workstation).
        let desktopA = try LiveDesktop(width: 320, height: 240, seconds: 180)
        defer { desktopA.stop() }
        let desktopB = try LiveDesktop(width: 320, height: 240, seconds: 180)
        defer { desktopB.stop() }
        let skew = NetworkNamespace.clockAhead(seconds: 300)
        let directory = desktopA.directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)

        // The customer's audio: a 1 kHz beep one second in (the marker the voice's offset is checked by),
        // then speech; 16 s in all (the call lasts as long as the customer's file). The agents' phones send
        // a quiet tone for longer, so they never hang up first.
        let customerAudio = "\(directory)/customer.wav"
        try Self.tool("espeak-ng", ["-w", "\(directory)/espeak.wav", "I would like to pay my bill, please."])
        try Self.tool("sox", ["\(directory)/espeak.wav", "-r", "8000", "-c", "1", "-b", "16", "\(directory)/speech.wav"])
        try Self.tool("sox", ["-n", "-r", "8000", "-c", "1", "-b", "16", "\(directory)/beep.wav", "synth", "0.4", "sine", "1000", "pad", "1", "0.6"])
        try Self.tool("sox", ["\(directory)/beep.wav", "\(directory)/speech.wav", customerAudio, "pad", "0", "12"])
        let tone = "\(directory)/tone.wav"
        try Self.tool("sox", ["-n", "-r", "8000", "-c", "1", "-b", "16", tone, "synth", "120", "sine", "440", "vol", "0.1"])
        let customer = try BaresipPhone(
            "customer", in: namespace, sipPort: 5060, controlPort: 4441, consolePort: 5551, microphone: customerAudio,
            directory: "\(directory)/customer")
        defer { customer.stop() }
        let phoneA = try BaresipPhone(
            "agent-a", in: namespace, sipPort: 5070, controlPort: 4442, consolePort: 5552, microphone: tone,
            directory: "\(directory)/phone-a")
        defer { phoneA.stop() }
        let phoneB = try BaresipPhone(
            "agent-b", in: namespace, sipPort: 5080, controlPort: 4443, consolePort: 5553, microphone: tone,
            directory: "\(directory)/phone-b", environment: skew)
        defer { phoneB.stop() }

        _ = try CallRecordingTests.admin(collector, ["node-path", "rules", "/", "--post-roll", "1"])
        func agent(_ name: String, _ phone: BaresipPhone, _ desktop: LiveDesktop, environment: [String: String] = [:])
            throws -> (Process, URL)
        {
            let state = "\(directory)/\(name)"
            let code = String(try CallRecordingTests.admin(collector, ["enrolment-code", "create", "/softphones"]).split(separator: "\t")[0])
            let enrolled = try namespace.run(
                agentTool,
                [
                    "enroll", "--collector", collector.url, "--code", code, "--fingerprint", collector.fingerprint ?? "",
                    "--agent-id", name, "--state-dir", state,
                ])
            guard enrolled.status == 0 else { throw TestFailure("enroll \(name): \(enrolled.stderr)") }
            let (ip, arguments) = try namespace.command(
                agentTool,
                [
                    "record", "--config", "\(state)/agent.json", "--display", desktop.display, "--follow-calls",
                    "--baresip", phone.control,
                ])
            let (process, log) = try ProcessRunner.launch(ip, arguments, captureStandardError: true, environment: environment)
            guard ProcessRunner.waitForOutput(containing: "following the softphone", in: log, of: process) != nil else {
                ProcessRunner.kill(process)
                throw TestFailure("agent \(name) never reached its softphone: \(Self.text(log))")
            }
            return (process, log)
        }
        let (agentA, logA) = try agent("ws-a", phoneA, desktopA)
        defer { ProcessRunner.kill(agentA) }
        let (agentB, logB) = try agent("ws-b", phoneB, desktopB, environment: skew)
        defer { ProcessRunner.kill(agentB) }

        try customer.press("/dial \(phoneA.uri)")
        let startedA = try #require(
            ProcessRunner.waitForOutput(containing: "method=", in: logA, of: agentA, seconds: 30),
            "agent A never recorded the call: \(Self.text(logA)) \(phoneA.printed)")
        let callA = try #require(Self.callId(in: startedA), "\(startedA)")
        Thread.sleep(forTimeInterval: 1.5)
        try phoneA.press("/hold")
        #expect(
            ProcessRunner.waitForOutput(containing: "held=true", in: logA, of: agentA, seconds: 15) != nil,
            "the hold was not seen: \(Self.text(logA))")
        Thread.sleep(forTimeInterval: 1.5)
        try phoneA.press("/resume")
        #expect(
            ProcessRunner.waitForOutput(containing: "held=false", in: logA, of: agentA, seconds: 15) != nil,
            "the resume was not seen: \(Self.text(logA))")
        // The customer reads out a card number: the agent's CTI toolbar pauses the recording (PCI).
        func toolbar(_ type: String) throws {
            let sent = try ProcessRunner.run(
                agentTool,
                ["event", type, "--interaction", callA, "--leg", callA, "--reason", "card number", "--state-dir", "\(directory)/ws-a"])
            guard sent.status == 0 else { throw TestFailure("event \(type): \(sent.stdout) \(sent.stderr)") }
        }
        try toolbar("recording.paused")
        #expect(ProcessRunner.waitForOutput(containing: "recording paused", in: logA, of: agentA, seconds: 15) != nil)
        Thread.sleep(forTimeInterval: 2)
        try toolbar("recording.resumed")
        Thread.sleep(forTimeInterval: 1)
        try phoneA.press("/transfer \(phoneB.uri)")

        // A's leg ends with the transfer; B's leg is a new call, with its own Call-ID.
        #expect(
            ProcessRunner.waitForOutput(containing: "recording stopped: no call left", in: logA, of: agentA, seconds: 30)
                != nil, "A kept recording after the transfer: \(Self.text(logA))")
        let startedB = try #require(
            ProcessRunner.waitForOutput(containing: "method=", in: logB, of: agentB, seconds: 30),
            "agent B never recorded the transferred call: \(Self.text(logB))")
        let callB = try #require(Self.callId(in: startedB), "\(startedB)")
        #expect(callA != callB, "a blind transfer makes a new Call-ID")
        // The customer's file ends, the call hangs up, B's recording stops.
        #expect(
            ProcessRunner.waitForOutput(containing: "recording stopped: no call left", in: logB, of: agentB, seconds: 60)
                != nil, "B kept recording after the call ended: \(Self.text(logB))")

        // Uploaded under each agent's own call, with the hold and the pause in A's manifests.
        let manifests = try Self.storedManifests(collector, expecting: ["ws-a", "ws-b"])
        let fromA = manifests.filter { $0.agentId == "ws-a" }
        let fromB = manifests.filter { $0.agentId == "ws-b" }
        #expect(!fromA.isEmpty && fromA.allSatisfy { $0.callIds == [callA] }, "\(fromA.map(\.callIds))")
        #expect(!fromB.isEmpty && fromB.allSatisfy { $0.callIds == [callB] }, "\(fromB.map(\.callIds))")
        #expect(fromA.flatMap { $0.legs ?? [] }.allSatisfy { $0.legId == callA })
        let holds = fromA.flatMap { $0.holds ?? [] }
        #expect(holds.count == 1 && holds.allSatisfy { $0.legId == callA }, "\(holds)")
        let gaps = fromA.flatMap(\.pauseGaps)
        #expect(gaps.count == 1 && gaps.first?.reason == "card number", "\(gaps)")

        // The agents reported their softphones' calls: the catalog has both, each leg at its workstation.
        func shown(_ call: String, containing text: String) -> String {
            let deadline = Date().addingTimeInterval(30)
            var printed = ""
            while Date() < deadline {
                printed = (try? CallRecordingTests.admin(collector, ["call", "show", call])) ?? ""
                if printed.contains(text) { break }
                Thread.sleep(forTimeInterval: 0.3)
            }
            return printed
        }
        let catalogA = shown(callA, containing: "ended")
        #expect(catalogA.contains("leg \(callA) (call): agent sip:agent-a@127.0.0.1:5070 at ws-a"), "\(catalogA)")
        #expect(catalogA.contains("    held 20") && catalogA.contains("(card number)"), "\(catalogA)")
        let catalogB = shown(callB, containing: "ended")
        #expect(catalogB.contains("at ws-b") && catalogB.contains("ani: customer"), "\(catalogB)")

        // Real audio flowed: B's phone heard the customer. Both phones' recordings go in as voice.
        let heard = try #require(phoneB.recordings.first { $0.hasSuffix("-dec.wav") }, "\(phoneB.recordings)")
        #expect((try Self.durationMs(heard)) > 5000, "B's phone heard the customer's speech")
        for (phone, workstation) in [(phoneA, "ws-a"), (phoneB, "ws-b")] {
            let imported = try ProcessRunner.run(
                ProcessRunner.product("recorder-collector"),
                [
                    "voice", "import", "\(phone.directory)/sound", "--workstation", workstation, "--timezone",
                    TimeZone.current.identifier, "--data-dir", collector.dataDirectory,
                ])
            #expect(imported.status == 0 && imported.stdout.contains("2 imported"), "\(imported.stdout) \(imported.stderr)")
        }

        // B's timeline: its screen starts with its leg (within a frame interval at 5 fps) although its
        // clock is five minutes fast, and the customer's beep lands where it was said.
        let timelineB = try Self.timeline(collector, callB)
        let legB = try #require(timelineB.legs.first { $0.legId == callB }, "\(timelineB.legs)")
        let screenB = try #require(timelineB.screen.first { $0.agentId == "ws-b" }, "\(timelineB.screen)")
        #expect(abs(screenB.offsetMs - legB.fromMs) <= 200, "B's first frame at \(screenB.offsetMs), its leg at \(legB.fromMs)")
        #expect(abs((screenB.clockCorrectionMs ?? 0) - 300_000) <= 2000, "\(String(describing: screenB.clockCorrectionMs))")
        #expect((screenB.uncertaintyMs ?? 999) <= 40, "measured twice at start: \(String(describing: screenB.uncertaintyMs))")
        let customerVoice = try #require(
            timelineB.voice.first { $0.channels == ["customer"] && $0.legId == callB }, "\(timelineB.voice)")
        let beep = try #require(try Self.firstSoundMs(heard), "no beep in \(heard)")
        let heardAt = customerVoice.offsetMs + beep
        // The dump's name says the second; the leg's start inside it pins it (±100 ms), plus what B's clock
        // is known to (as for its screen, within 40 ms).
        #expect(customerVoice.uncertaintyMs <= 100 + 40, "\(customerVoice)")
        #expect(
            abs(heardAt - (legB.fromMs + 1000)) <= 250,
            "the beep said 1 s into the call is heard at \(heardAt) ms (leg at \(legB.fromMs), ±\(customerVoice.uncertaintyMs))")
        #expect(timelineB.voice.allSatisfy { $0.match.method == "interaction" })

        // The transfer joined both calls into one view, whichever is opened: A's leg, then B's, each
        // agent's screen during its own leg, and all four of the phones' recordings.
        let timelineA = try Self.timeline(collector, callA)
        #expect(timelineA.calls.map(\.interactionId) == [callA, callB], "\(timelineA.calls)")
        #expect(timelineA.calls.last?.match.method == "transfer-time", "\(timelineA.calls)")
        #expect(timelineB.calls == timelineA.calls && timelineB.legs == timelineA.legs && timelineB.screen == timelineA.screen)
        let legA = try #require(timelineA.legs.first { $0.legId == callA })
        #expect(timelineA.legs.last?.previousLegId == callA, "\(timelineA.legs)")
        let transfer = try #require(timelineA.bands.first { $0.kind == "transfer" }, "\(timelineA.bands)")
        #expect(transfer.detail == callB && transfer.fromMs == legA.toMs)
        for screen in timelineA.screen {
            let leg = screen.agentId == "ws-a" ? legA : legB
            #expect(
                screen.offsetMs >= leg.fromMs - 200 && screen.offsetMs <= (leg.toMs ?? .max),
                "\(screen.agentId)'s segment at \(screen.offsetMs) lies in its own leg \(leg.fromMs)–\(leg.toMs ?? -1)")
        }
        #expect(Set(timelineA.screen.map(\.agentId)) == ["ws-a", "ws-b"])
        #expect(timelineA.voice.count == 4, "\(timelineA.voice)")

        // A's leg: the hold, and the pause with no screen inside it.
        #expect(timelineA.bands.contains { $0.kind == "hold" && $0.legId == callA }, "\(timelineA.bands)")
        let pause = try #require(timelineA.bands.first { $0.kind == "pause" }, "\(timelineA.bands)")
        #expect(pause.detail == "card number" && (pause.toMs ?? 0) - pause.fromMs >= 1500, "\(pause)")
        #expect(
            !timelineA.bands.contains { $0.kind == "no_screen" && $0.legId == callA }, "A's screen covers its leg: \(timelineA.bands)")

        for process in [agentA, agentB] {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
        }
    }

    static func timeline(_ collector: CollectorProcess, _ call: String) throws -> CallTimeline {
        let json = try CallRecordingTests.admin(collector, ["call", "timeline", call, "--json"])
        return try JSONDecoder().decode(CallTimeline.self, from: Data(json.utf8))
    }

    /// A WAV's duration, from its header (soxi).
    static func durationMs(_ file: String) throws -> Int {
        Int((Double(try tool("soxi", ["-D", file]).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) * 1000)
    }

    /// Where the first sound of a 16-bit mono WAV begins: the first 10 ms whose RMS is loud, in ms.
    static func firstSoundMs(_ file: String) throws -> Int64? {
        let raw = "\(file).raw"
        try tool("sox", [file, "-t", "raw", "-e", "signed", "-b", "16", "-c", "1", "-r", "8000", raw])
        let data = try Data(contentsOf: URL(fileURLWithPath: raw))
        let samples = data.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
        var index = 0
        while index + 80 <= samples.count {
            let energy = samples[index..<index + 80].reduce(0.0) { $0 + Double($1) * Double($1) } / 80
            if energy.squareRoot() > 3000 { return Int64(index / 8) }
            index += 80
        }
        return nil
    }

    /// The single call id of an agent's "recording" line (`calls=["…"]`).
    static func callId(in log: String) -> String? {
        let lines = log.split(separator: "\n").filter { $0.contains("method=") }
        guard let line = lines.last, let match = line.firstMatch(of: /calls=\["([^"]+)"\]/) else { return nil }
        return String(match.1)
    }

    /// Every manifest in the collector's built-in store, once segments of each agent arrived.
    static func storedManifests(_ collector: CollectorProcess, expecting agents: [String]) throws -> [SegmentManifest] {
        let store = "\(collector.dataDirectory)/store"
        let deadline = Date().addingTimeInterval(60)
        var manifests: [SegmentManifest] = []
        repeat {
            let names = (FileManager.default.enumerator(atPath: store)?.allObjects as? [String] ?? [])
                .filter { $0.hasSuffix(".json") }
            manifests = names.compactMap { name in
                FileManager.default.contents(atPath: "\(store)/\(name)").flatMap {
                    try? JSONDecoder().decode(SegmentManifest.self, from: $0)
                }
            }
            if agents.allSatisfy({ agent in manifests.contains { $0.agentId == agent } }) { break }
            Thread.sleep(forTimeInterval: 0.3)
        } while Date() < deadline
        return manifests
    }

    @discardableResult
    static func tool(_ name: String, _ arguments: [String]) throws -> String {
        let result = try ProcessRunner.run(name, arguments)
        guard result.status == 0 else { throw TestFailure("\(name) \(arguments): \(result.stderr)") }
        return result.stdout
    }

    static func text(_ log: URL) -> String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
}
