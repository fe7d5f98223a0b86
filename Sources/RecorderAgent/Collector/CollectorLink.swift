import Foundation
import RecorderCore
import StorageClient

/// An enrolled agent's line to its collector, read from the state directory `recorder-agent enroll`
/// wrote (`collector.json`, `collector-ca.pem`): it reports each stored segment's manifest and sends
/// heartbeats. Blocking (libcurl); callers run it on threads of their own.
public struct CollectorLink: Sendable {
    public let client: CollectorClient

    public init(client: CollectorClient) {
        self.client = client
    }

    /// The link of an enrolled agent, or nil when this state directory was never enrolled (a
    /// stand-alone agent uploads to its configured storage and reports to nobody).
    public static func load(stateDirectory: String) throws -> CollectorLink? {
        let directory = URL(fileURLWithPath: stateDirectory, isDirectory: true)
        let file = directory.appendingPathComponent("collector.json")
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        let record: EnrolmentRecord
        do {
            record = try StrictJSON.decode(EnrolmentRecord.self, from: data)
        } catch {
            throw CollectorClient.Failure(
                description: "\(file.path) is not an enrolment record (\(error)); enrol again with recorder-agent enroll")
        }
        let ca = directory.appendingPathComponent("collector-ca.pem").path
        return CollectorLink(
            client: CollectorClient(
                baseURL: record.collectorURL, caFile: FileManager.default.fileExists(atPath: ca) ? ca : nil,
                token: record.agentToken))
    }

    public enum ManifestReport: Sendable, Equatable {
        /// The collector recorded the segment now.
        case added
        /// It already had it (a retry after a lost answer).
        case duplicate
    }

    /// Posts a manifest exactly as stored (the chain hashes those bytes). 401 means the token was
    /// revoked, 5xx/408/429 and network failures are worth retrying, and any other refusal carries the
    /// collector's reason (a bad signature, an object whose hash differs) for the admin.
    public func reportManifest(_ bytes: [UInt8], abort: TransferCancellation? = nil) throws(TransferError) -> ManifestReport {
        let path = "/api/v1/agent/manifests"
        let (status, body) = try client.send("POST", path, payload: bytes, abort: abort)
        switch status {
        case 201: return .added
        case 200: return .duplicate
        case 401:
            throw TransferError(
                .unauthorized,
                "POST \(client.baseURL)\(path): HTTP 401: the collector no longer accepts this agent's token (revoked?); enrol the workstation again",
                status: status)
        default:
            let base = TransferError.status(status, "POST", client.baseURL + path)
            let reason = CollectorClient.errorMessage(in: body)
            throw TransferError(
                base.kind == .unauthorized ? .rejected : base.kind,
                reason.map { "POST \(client.baseURL)\(path): HTTP \(status): \($0)" } ?? base.description,
                status: status)
        }
    }

    /// What a heartbeat learnt.
    public struct HeartbeatOutcome: Sendable, Equatable {
        /// Agent clock minus collector clock, as the collector measured it.
        public var clockOffsetMs: Int
        /// How long the request took, for the next heartbeat's offset correction.
        public var roundTripMs: Int
    }

    /// Sends one heartbeat; any failure is an `TransferError` the caller logs (heartbeats never stop
    /// a recording).
    public func heartbeat(_ report: AgentHeartbeat, abort: TransferCancellation? = nil) throws(TransferError) -> HeartbeatOutcome {
        let path = "/api/v1/agent/heartbeat"
        let payload: [UInt8]
        do {
            payload = try [UInt8](StrictJSON.encode(report))
        } catch {
            throw TransferError(.rejected, "cannot encode a heartbeat: \(error)")
        }
        let started = ContinuousClock.now
        let (status, body) = try client.send("POST", path, payload: payload, abort: abort)
        let elapsed = ContinuousClock.now - started
        guard status == 200 else {
            let base = TransferError.status(status, "POST", client.baseURL + path)
            let reason = CollectorClient.errorMessage(in: body)
            throw TransferError(
                base.kind, reason.map { "POST \(client.baseURL)\(path): HTTP \(status): \($0)" } ?? base.description,
                status: status)
        }
        guard let answer = try? StrictJSON.decode(HeartbeatAnswer.self, from: body, unknownKeys: .ignore) else {
            throw TransferError(.rejected, "POST \(client.baseURL)\(path): the answer is not a heartbeat answer")
        }
        return HeartbeatOutcome(clockOffsetMs: answer.clockOffsetMs, roundTripMs: Int(elapsed.milliseconds))
    }
}
