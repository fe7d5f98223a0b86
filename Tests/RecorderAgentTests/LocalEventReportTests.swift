import Foundation
import Logging
import RecorderCore
import Testing

@testable import RecorderAgent

/// The workstation's own call events wait on disk until the collector takes them: a collector that is
/// down, or an agent restarted in between, loses none; a backlog past its limit drops the oldest.
struct LocalEventReportTests {
    let logger = Logger(label: "test")

    func event(_ id: String) -> CallEvent {
        CallEvent(
            eventId: id, type: .legStarted, occurredAt: "2026-12-01T10:00:00.000Z", interactionId: "sip-1", legId: "sip-1")
    }

    @Test func eventsWaitOnDiskWhileTheCollectorIsDownAndSurviveARestart() throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        // Nothing listens on port 1.
        let link = CollectorLink(client: CollectorClient(baseURL: "https://127.0.0.1:1", caFile: nil, token: "t"))
        let report = LocalEventReport(link: link, stateDirectory: state, logger: logger)
        report.add(event("local/1"))
        report.add(event("local/2"))
        #expect(report.send(report.waiting) == false, "a dead collector takes nothing")
        #expect(report.waiting.map(\.eventId) == ["local/1", "local/2"])
        let restarted = LocalEventReport(link: link, stateDirectory: state, logger: logger)
        #expect(restarted.waiting.map(\.eventId) == ["local/1", "local/2"], "read back after a restart")
    }

    @Test func aBacklogPastItsLimitDropsTheOldest() throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let link = CollectorLink(client: CollectorClient(baseURL: "https://127.0.0.1:1", caFile: nil, token: "t"))
        let report = LocalEventReport(link: link, stateDirectory: state, logger: logger, limit: 3)
        for index in 1...5 { report.add(event("local/\(index)")) }
        #expect(report.waiting.map(\.eventId) == ["local/3", "local/4", "local/5"])
    }
}
