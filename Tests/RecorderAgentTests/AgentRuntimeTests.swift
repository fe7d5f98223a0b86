import Foundation
import Logging
import RecorderAgent
import RecorderCore
import StorageClient
import TestSupport
import TestTraits
import Testing

/// The agent's services composed in the library, without spawning the binary: which services a
/// configuration runs, in which order, and one recording run to its end in this process.
@Suite(.serialized, .realTime)
struct AgentRuntimeTests {
    static let logger = Logger(label: "runtime-test")

    func scratch() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("runtime-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Shutdown runs backwards through this order: recorder first (its last segment is finished),
    /// then the spool writer, the uploader's last pass, and the "stopping" heartbeat last.
    @Test func servicesStartInTheStatedOrderAndOnlyWhenConfigured() throws {
        let directory = try scratch()
        let key = try TestKeyPair(name: "runtime")
        var configuration = AgentConfiguration()
        configuration.outputDirectory = directory.appendingPathComponent("spool").path
        configuration.stateDirectory = directory.appendingPathComponent("state").path
        configuration.recipientCertificates = [key.certificate.path]
        configuration.storage = StorageTarget(baseURL: "https://127.0.0.1:9/dav")
        let standalone = try AgentRuntime(configuration: configuration, duration: 1, logger: Self.logger)
        #expect(standalone.roles == [.upload, .spoolWriter, .recorder], "no collector: no heartbeat")

        try StrictJSON.encode(EnrolmentRecord(collectorURL: "https://127.0.0.1:9", agentToken: "rca_x")).write(
            to: directory.appendingPathComponent("state/collector.json"))
        let enrolled = try AgentRuntime(configuration: configuration, duration: 1, logger: Self.logger)
        #expect(enrolled.roles == [.heartbeat, .upload, .spoolWriter, .recorder])
        let following = try AgentRuntime(configuration: configuration, duration: nil, followsCalls: true, logger: Self.logger)
        #expect(following.roles == [.heartbeat, .upload, .callRecording], "calls start and stop the recorders")

        configuration.recipientCertificates = []
        let plain = try AgentRuntime(configuration: configuration, duration: 1, logger: Self.logger)
        #expect(plain.roles == [.heartbeat, .spoolWriter, .recorder], "plain segments are never uploaded")

        configuration.outputDirectory = nil
        #expect(throws: AgentRuntime.SetupError.self) {
            try AgentRuntime(configuration: configuration, duration: 1, logger: Self.logger)
        }
    }

    /// A whole run in this process: the recorder stops at its duration, the group shuts down in order,
    /// and every segment it produced is on disk and plays.
    @Test func aRunInProcessLeavesEverySegmentOnDisk() async throws {
        let desktop = try LiveDesktop(width: 320, height: 240, seconds: 20)
        defer { desktop.stop() }
        let directory = try scratch()
        var configuration = AgentConfiguration()
        configuration.display = desktop.display
        configuration.outputDirectory = directory.appendingPathComponent("spool").path
        configuration.stateDirectory = directory.appendingPathComponent("state").path
        configuration.recording.segmentSeconds = 2
        let runtime = try AgentRuntime(configuration: configuration, duration: 5, logger: Self.logger)
        try await runtime.serviceGroup(signals: []).run()
        let written = runtime.writtenFiles
        #expect((2...4).contains(written.count), "\(written)")
        for path in written {
            #expect(FileManager.default.fileExists(atPath: path))
            #expect(try MediaProbe(path: path).decodeErrors() == "", "\(path) plays")
        }
        #expect(runtime.status.current.segmentsStored == written.count, "the status file counted them")
    }
}
