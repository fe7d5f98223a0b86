import Foundation
import Glibc
import RecorderCore
import TestSupport
import TestTraits
import Testing

/// Calls drive recording end to end: a phone system posts a call's events to a real collector, which
/// routes them to the workstation where the agent sits; the long-lived agent (`record --follow-calls`)
/// records from the leg's start to the end of after-call work, and the segments land under the call.
@Suite(.serialized, .realTime)
struct CallRecordingTests {
    let collectorTool = ProcessRunner.product("recorder-collector")
    let agentTool = ProcessRunner.product("recorder-agent")

    @Test func aCallPostedToTheCollectorIsRecordedOnTheAgentsWorkstation() throws {
        let collector = try CollectorProcess()
        defer { collector.stop() }
        let data = collector.dataDirectory
        func admin(_ arguments: [String]) throws -> String { try Self.admin(collector, arguments) }
        let desktop = try LiveDesktop(width: 320, height: 240, seconds: 120)
        defer { desktop.stop() }
        let state = "\(desktop.directory)/state"
        let token = try Self.enrolForCalls(collector, state: state)
        // The node path's rules: card payments are never recorded.
        let rules = try admin(["node-path", "rules", "/", "--exclude-queue", "card-payments", "--post-roll", "2"])
        #expect(rules.contains("exclude_queues\tcard-payments\tset at /"), "\(rules)")

        let (agent, log) = try ProcessRunner.launch(
            agentTool, ["record", "--config", "\(state)/agent.json", "--display", desktop.display, "--follow-calls"],
            captureStandardError: true)
        defer { ProcessRunner.kill(agent) }
        func post(
            _ type: String, _ id: String, call: String = "call-77", at time: Date = Date(), queue: String = "sales",
            leg: String = "leg-1"
        ) throws {
            let body =
                #"{"event_id":"\#(id)","type":"\#(type)","occurred_at":"\#(AgentHeartbeat.timestamp(time))","interaction_id":"\#(call)","leg_id":"\#(leg)","agent_id":"agent-7","queue":"\#(queue)"}"#
            let posted = try ProcessRunner.run(
                "curl",
                [
                    "-s", "--fail-with-body", "--cacert", collector.caFile, "-H", "Authorization: Bearer \(token)",
                    "-H", "Content-Type: application/json", "--data-binary", body, collector.url + "/api/v1/cti/events",
                ])
            guard posted.status == 0 else { throw TestFailure("post \(type): \(posted.stdout) \(posted.stderr)") }
        }
        try #require(ProcessRunner.waitForOutput(containing: "recording rules", in: log, of: agent) != nil)
        try post("leg.started", "pbx-0", call: "call-card", queue: "card-payments", leg: "leg-card")
        let left = ProcessRunner.waitForOutput(containing: "which the recording rules leave out", in: log, of: agent)
        #expect(left != nil, "a leg in an excluded queue is not recorded")
        try post("leg.started", "pbx-1")
        let started = ProcessRunner.waitForOutput(containing: "method=", in: log, of: agent)
        try #require(started != nil, "the agent never started recording the call")
        #expect(started?.contains("call-77") == true, "\(started ?? "")")
        Thread.sleep(forTimeInterval: 1)
        try post("leg.held", "pbx-h1")
        Thread.sleep(forTimeInterval: 1)
        try post("leg.resumed", "pbx-h2")
        Thread.sleep(forTimeInterval: 1)
        try post("leg.ended", "pbx-2")
        try post("acw.ended", "pbx-3")
        let stopped = ProcessRunner.waitForOutput(containing: "recording stopped: no call left", in: log, of: agent)
        try #require(stopped != nil, "the recording did not stop with the call")

        // Uploaded under the call, and catalogued with it.
        let store = "\(data)/store"
        var stored: [String] = []
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            stored = (FileManager.default.enumerator(atPath: store)?.allObjects as? [String] ?? [])
                .filter { $0.hasSuffix(".webm.p7m") }
            if !stored.isEmpty { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        #expect(!stored.isEmpty && stored.allSatisfy { $0.contains("/ws-call/call-77/") }, "\(stored)")
        var catalogued = ""
        while Date() < deadline {
            catalogued = try admin(["segment", "list", "--call", "call-77"])
            if catalogued.contains("ws-call") { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        #expect(catalogued.contains("ws-call") && catalogued.contains("call-77"), "\(catalogued)")
        // The catalog's call: its leg at this workstation, the hold, and the segments of the leg with the
        // hold inside them, as the agent's manifests say.
        let shown = try admin(["call", "show", "call-77"])
        #expect(shown.contains("leg leg-1 (call): agent agent-7 at ws-call"), "\(shown)")
        #expect(shown.contains("    held 20"), "the hold from the events: \(shown)")
        #expect(shown.contains("    held leg-1: 20"), "the hold in a segment's manifest: \(shown)")
        #expect(try admin(["call", "list", "--workstation", "ws-call"]).contains("call-77\tended"))

        // The agent is stopped in the middle of call-88; while it is away call-88 ends and call-99
        // starts. Back, it resynchronises: call-99 is picked up late, call-88 is not recorded again.
        try post("leg.started", "pbx-4", call: "call-88")
        try #require(ProcessRunner.waitForOutput(containing: "call-88", in: log, of: agent) != nil)
        kill(agent.processIdentifier, SIGTERM)
        agent.waitUntilExit()
        #expect(agent.terminationStatus == 0, "\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        try post("leg.ended", "pbx-5", call: "call-88")
        try post("leg.started", "pbx-6", call: "call-99", at: Date().addingTimeInterval(-5))
        let (again, againLog) = try ProcessRunner.launch(
            agentTool, ["record", "--config", "\(state)/agent.json", "--display", desktop.display, "--follow-calls"],
            captureStandardError: true)
        defer { ProcessRunner.kill(again) }
        let resumed = ProcessRunner.waitForOutput(containing: "method=", in: againLog, of: again)
        #expect(resumed?.contains("call-99") == true, "\(resumed ?? "no recording after the restart")")
        let text = (try? String(contentsOf: againLog, encoding: .utf8)) ?? ""
        #expect(text.contains("call picked up late"), "\(text)")
        #expect(!text.contains("call-88"), "the call that ended while the agent was away is not recorded: \(text)")
        try post("leg.ended", "pbx-7", call: "call-99")
        try post("acw.ended", "pbx-8", call: "call-99")
        #expect(ProcessRunner.waitForOutput(containing: "recording stopped: no call left", in: againLog, of: again) != nil)

        // A softphone on the workstation tells the agent directly, through its local socket.
        func local(_ arguments: [String]) throws -> ProcessResult {
            try ProcessRunner.run(agentTool, ["event"] + arguments + ["--state-dir", state])
        }
        let softphone = try local(["leg.started", "--interaction", "sip-4242@pbx", "--leg", "sip-4242@pbx", "--id", "l-1"])
        #expect(softphone.status == 0 && softphone.stdout.contains(#""accepted":true"#), "\(softphone.stdout) \(softphone.stderr)")
        #expect(ProcessRunner.waitForOutput(containing: "sip-4242@pbx", in: againLog, of: again) != nil)
        let mode = (try? FileManager.default.attributesOfItem(atPath: "\(state)/agent.sock")[.posixPermissions] as? Int) ?? 0
        #expect(mode == 0o600, "the socket answers its own user only: \(String(mode, radix: 8))")
        let wrong = try local(["leg.started", "--interaction", "x"])
        #expect(wrong.status != 0 && wrong.stderr.contains("leg_id"), "a leg.started needs its leg: \(wrong.stderr)")
        #expect(try local(["leg.ended", "--interaction", "sip-4242@pbx", "--leg", "sip-4242@pbx"]).status == 0)
        #expect(try local(["acw.ended", "--interaction", "sip-4242@pbx", "--leg", "sip-4242@pbx"]).status == 0)
        let stops = { (try? String(contentsOf: againLog, encoding: .utf8))?.components(separatedBy: "recording stopped: no call left").count ?? 0 }
        let until = Date().addingTimeInterval(30)
        while stops() < 3 && Date() < until { Thread.sleep(forTimeInterval: 0.1) }
        #expect(stops() == 3, "the local call's recording stopped too")
        kill(again.processIdentifier, SIGTERM)
        again.waitUntilExit()
        #expect(again.terminationStatus == 0)
    }

    static func admin(_ collector: CollectorProcess, _ arguments: [String]) throws -> String {
        let result = try ProcessRunner.run(
            ProcessRunner.product("recorder-collector"), ["admin"] + arguments + ["--data-dir", collector.dataDirectory])
        guard result.status == 0 else { throw TestFailure("admin \(arguments): \(result.stderr)") }
        return result.stdout
    }

    /// Enrols workstation ws-call in `state` and maps the phone system's agent-7 to it; returns the
    /// integration's token.
    static func enrolForCalls(_ collector: CollectorProcess, state: String) throws -> String {
        let code = String(try admin(collector, ["enrolment-code", "create", "/calls"]).split(separator: "\t")[0])
        let enrolled = try ProcessRunner.run(
            ProcessRunner.product("recorder-agent"),
            [
                "enroll", "--collector", collector.url, "--code", code, "--fingerprint", collector.fingerprint ?? "",
                "--agent-id", "ws-call", "--state-dir", state,
            ])
        guard enrolled.status == 0 else { throw TestFailure("enroll: \(enrolled.stderr)") }
        let token = String(try admin(collector, ["integration", "add", "pbx"]).split(separator: "\n").last ?? "")
        _ = try admin(collector, ["integration", "map", "pbx", "agent-7", "--agent", "ws-call"])
        return token
    }

    /// The display is not up when the call starts (a workstation still booting): the agent says it
    /// cannot record, tries again, and records the call once the X server is there.
    @Test func aCallIsRecordedOnceItsDisplayComesUp() throws {
        let collector = try CollectorProcess()
        defer { collector.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("late-x-\(UUID().uuidString)").path
        let token = try Self.enrolForCalls(collector, state: "\(directory)/state")
        // A display number nobody uses yet.
        let number = (400..<600).first { !FileManager.default.fileExists(atPath: "/tmp/.X11-unix/X\($0)") } ?? 599
        let (agent, log) = try ProcessRunner.launch(
            agentTool, ["record", "--config", "\(directory)/state/agent.json", "--display", ":\(number)", "--follow-calls"],
            captureStandardError: true)
        defer { ProcessRunner.kill(agent) }
        try #require(ProcessRunner.waitForOutput(containing: "call events resynchronised", in: log, of: agent) != nil)
        let body =
            #"{"event_id":"late-1","type":"leg.started","occurred_at":"\#(AgentHeartbeat.timestamp(Date()))","interaction_id":"call-late","leg_id":"leg-1","agent_id":"agent-7"}"#
        let posted = try ProcessRunner.run(
            "curl",
            [
                "-s", "--fail-with-body", "--cacert", collector.caFile, "-H", "Authorization: Bearer \(token)",
                "-H", "Content-Type: application/json", "--data-binary", body, collector.url + "/api/v1/cti/events",
            ])
        #expect(posted.status == 0, "\(posted.stdout)")
        #expect(ProcessRunner.waitForOutput(containing: "cannot record the call", in: log, of: agent) != nil)
        let (xvfb, _) = try ProcessRunner.launch(
            try ProcessRunner.which("Xvfb"), [":\(number)", "-screen", "0", "320x240x24", "-nolisten", "tcp"])
        defer { ProcessRunner.kill(xvfb) }
        let recording = ProcessRunner.waitForOutput(containing: "method=", in: log, of: agent)
        #expect(recording?.contains("call-late") == true, "\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        kill(agent.processIdentifier, SIGTERM)
        agent.waitUntilExit()
        #expect(agent.terminationStatus == 0)
    }
}
