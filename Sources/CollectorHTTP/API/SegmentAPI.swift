import CollectorCore
import Foundation
import Hummingbird
import NIOCore
import RecorderCore

/// Agents report here: each stored segment's manifest (`POST /api/v1/agent/manifests`, the manifest
/// file's bytes as the body, since the chain hashes exactly those bytes) and a heartbeat every minute.
/// Admins search the catalog: `GET /api/v1/admin/segments?agent_id=&call_id=&chain=&from=&to=&limit=`.
struct SegmentAPI {
    let collector: Collector

    func register(on router: Router<CollectorContext>) {
        let agent = router.group("api/v1/agent").add(middleware: AgentAuthentication(agents: collector.agents))
        agent.post("manifests") { request, context in
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: Collector.maximumManifestBytes)
            } catch is NIOTooManyBytesError {
                throw CollectorError(.tooLarge, "a manifest is at most \(Collector.maximumManifestBytes) bytes")
            }
            switch try await collector.acceptManifest(
                Data(buffer: body), from: context.agent!, source: context.remoteAddress)
            {
            case .added(let segment): return EditedResponse(status: .created, response: segment)
            case .duplicate(let segment): return EditedResponse(status: .ok, response: segment)
            }
        }
        agent.post("heartbeat") { request, context in
            let receivedAt = Date()
            let report = try await request.decodeStrict(AgentHeartbeat.self, context: context)
            let offset = try await collector.heartbeats.record(
                report, agentId: context.agent!.id, receivedAt: receivedAt)
            return HeartbeatAnswer(receivedAt: Timestamp.string(receivedAt), clockOffsetMs: offset)
        }

        let admin = router.group("api/v1/admin").add(middleware: SessionAuthentication(collector: collector))
        admin.get("segments") { request, _ in
            let parameters = request.uri.queryParameters
            func text(_ name: Substring) -> String? { parameters[name].map(String.init) }
            var query = Segments.Query(
                agentId: text("agent_id"), callId: text("call_id"), from: text("from"), to: text("to"))
            if let chain = text("chain") {
                guard let state = SegmentRecord.ChainState(rawValue: chain) else {
                    throw CollectorError(.invalid, "chain must be first, linked, pending or broken, found \"\(chain)\"")
                }
                query.chain = state
            }
            if let limit = text("limit") {
                guard let value = Int(limit) else { throw CollectorError(.invalid, "limit must be a whole number") }
                query.limit = value
            }
            return Items(items: try await collector.segments.list(query))
        }
    }
}

extension SegmentRecord: ResponseEncodable {}

extension HeartbeatAnswer: ResponseEncodable {}
