import Foundation
import RecorderCore
import Synchronization

/// What `recorder-agent status` shows about a running (or the last) agent: written by the agent into
/// its state directory after every segment and error.
public struct AgentStatus: Codable, Sendable, Equatable {
    public var updated = ""
    public var pid: Int32 = 0
    public var spoolDirectory = ""
    public var segmentsStored = 0
    public var segmentsRefused = 0
    public var lastError: String?
    public var lastErrorTime: String?
}

public final class AgentStatusFile: Sendable {
    public let url: URL
    private let state: Mutex<AgentStatus>

    public init(stateDirectory: String, spoolDirectory: String) {
        url = URL(fileURLWithPath: stateDirectory).appendingPathComponent("status.json")
        var status = AgentStatus()
        status.pid = getpid()
        status.spoolDirectory = spoolDirectory
        state = Mutex(status)
    }

    public static func read(stateDirectory: String) -> AgentStatus? {
        let url = URL(fileURLWithPath: stateDirectory).appendingPathComponent("status.json")
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return try? JSONDecoder().decode(AgentStatus.self, from: data)
    }

    /// The status as last updated (for the heartbeat).
    public var current: AgentStatus { state.withLock { $0 } }

    public func stored() { update { $0.segmentsStored += 1 } }

    public func refused(_ reason: String) {
        update {
            $0.segmentsRefused += 1
            $0.lastError = reason
            $0.lastErrorTime = SegmentManifest.timestamp(unixNanos: Int64(Date().timeIntervalSince1970 * 1e9))
        }
    }

    public func failed(_ error: Error) {
        update {
            $0.lastError = "\(error)"
            $0.lastErrorTime = SegmentManifest.timestamp(unixNanos: Int64(Date().timeIntervalSince1970 * 1e9))
        }
    }

    /// Best effort: status reporting must never stop a recording.
    private func update(_ change: (inout AgentStatus) -> Void) {
        let snapshot = state.withLock { status in
            change(&status)
            status.updated = SegmentManifest.timestamp(unixNanos: Int64(Date().timeIntervalSince1970 * 1e9))
            return status
        }
        if let data = try? JSONEncoder().encode(snapshot) {
            try? DurableFile.write(data, to: url)
        }
    }
}
