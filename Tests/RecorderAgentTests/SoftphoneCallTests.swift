import Foundation
import Glibc
import RecorderCore
import TestSupport
import TestTraits
import Testing

/// A softphone drives recording, live: real baresip phones place a real SIP call with real RTP audio
/// (espeak-ng speech through `aufile`) from a customer to agent A, who holds it, resumes it and
/// blind-transfers it to agent B (a REFER: the customer's phone calls B with a new Call-ID). Each
/// workstation's agent follows its own phone's ctrl_tcp socket and records its own leg. Everything
/// runs in a network namespace of its own (baresip needs a non-loopback address; see TEST-PEERS.md).
@Suite(
    .serialized, .realTime,
    .enabled(if: NetworkNamespace.isAvailable, "network namespaces need root (CI runs as root)"))
struct SoftphoneCallTests {
    let agentTool = ProcessRunner.product("recorder-agent")

    @Test func aRealCallHeldAndBlindTransferredIsRecordedOnEachAgentsWorkstationUnderItsOwnCallId() throws {
        let namespace = try NetworkNamespace()
        defer { namespace.remove() }
        let collector = try CollectorProcess(namespace: namespace)
        defer { collector.stop() }
        let desktop = try LiveDesktop(width: 320, height: 240, seconds: 180)
        defer { desktop.stop() }
        let directory = desktop.directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)

        // The customer speaks for 16 s (the call lasts as long as the customer's file); the agents' phones
        // send a quiet tone for longer, so they never hang up first.
        let speech = "\(directory)/speech.wav"
        try Self.tool("espeak-ng", ["-w", "\(directory)/espeak.wav", "I would like to pay my bill, please."])
        try Self.tool("sox", ["\(directory)/espeak.wav", "-r", "8000", "-c", "1", speech, "pad", "0", "14"])
        let tone = "\(directory)/tone.wav"
        try Self.tool("sox", ["-n", "-r", "8000", "-c", "1", "-b", "16", tone, "synth", "120", "sine", "440", "vol", "0.1"])
        let customer = try BaresipPhone(
            "customer", in: namespace, sipPort: 5060, controlPort: 4441, consolePort: 5551, microphone: speech,
            directory: "\(directory)/customer")
        defer { customer.stop() }
        let phoneA = try BaresipPhone(
            "agent-a", in: namespace, sipPort: 5070, controlPort: 4442, consolePort: 5552, microphone: tone,
            directory: "\(directory)/phone-a")
        defer { phoneA.stop() }
        let phoneB = try BaresipPhone(
            "agent-b", in: namespace, sipPort: 5080, controlPort: 4443, consolePort: 5553, microphone: tone,
            directory: "\(directory)/phone-b")
        defer { phoneB.stop() }

        _ = try CallRecordingTests.admin(collector, ["node-path", "rules", "/", "--post-roll", "1"])
        func agent(_ name: String, _ phone: BaresipPhone) throws -> (Process, URL) {
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
            let (process, log) = try ProcessRunner.launch(ip, arguments, captureStandardError: true)
            guard ProcessRunner.waitForOutput(containing: "following the softphone", in: log, of: process) != nil else {
                ProcessRunner.kill(process)
                throw TestFailure("agent \(name) never reached its softphone: \(Self.text(log))")
            }
            return (process, log)
        }
        let (agentA, logA) = try agent("ws-a", phoneA)
        defer { ProcessRunner.kill(agentA) }
        let (agentB, logB) = try agent("ws-b", phoneB)
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
        #expect(customer.printed.contains("transfer") || phoneB.printed.contains("Call established"))
        // The customer's file ends, the call hangs up, B's recording stops.
        #expect(
            ProcessRunner.waitForOutput(containing: "recording stopped: no call left", in: logB, of: agentB, seconds: 60)
                != nil, "B kept recording after the call ended: \(Self.text(logB))")

        // Uploaded under each agent's own call, with the hold in A's manifests.
        let manifests = try Self.storedManifests(collector, expecting: ["ws-a", "ws-b"])
        let fromA = manifests.filter { $0.agentId == "ws-a" }
        let fromB = manifests.filter { $0.agentId == "ws-b" }
        #expect(!fromA.isEmpty && fromA.allSatisfy { $0.callIds == [callA] }, "\(fromA.map(\.callIds))")
        #expect(!fromB.isEmpty && fromB.allSatisfy { $0.callIds == [callB] }, "\(fromB.map(\.callIds))")
        #expect(fromA.flatMap { $0.legs ?? [] }.allSatisfy { $0.legId == callA })
        let holds = fromA.flatMap { $0.holds ?? [] }
        #expect(holds.count == 1 && holds.allSatisfy { $0.legId == callA }, "\(holds)")
        // B's recording began after A had the call back from hold (A's own goes on for its post-roll).
        let resumedA = holds.map(\.to).max() ?? "9"
        let startB = fromB.map(\.firstFrameTime).min() ?? ""
        #expect(resumedA < startB, "A resumed at \(resumedA), B started at \(startB)")

        // The agents reported their softphones' calls: the collector's catalog has both, each leg at its
        // workstation, A's with its hold, whichever agent's report came first.
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
        #expect(catalogA.contains("    held 20"), "the hold as the softphone showed it: \(catalogA)")
        let catalogB = shown(callB, containing: "ended")
        #expect(catalogB.contains("at ws-b") && catalogB.contains("ani: customer"), "\(catalogB)")

        // Real audio flowed: agent B's phone heard seconds of the customer's speech.
        let heard = phoneB.recordings.filter { $0.hasSuffix("-dec.wav") }
        let seconds = try heard.map { try Self.tool("soxi", ["-D", $0]).trimmingCharacters(in: .whitespacesAndNewlines) }
            .compactMap(Double.init).max() ?? 0
        #expect(seconds > 5, "B's phone heard \(seconds) s: \(heard)")

        for process in [agentA, agentB] {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
        }
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
