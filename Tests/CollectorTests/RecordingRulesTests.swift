import CollectorCore
import Foundation
import TestSupport
import TestTraits
import Testing

/// Recording rules per node path through the admin API on both databases: each field inherited from
/// the longest prefix that sets it, bounded on the way in, audited, and delivered to agents with
/// their configuration.
@Suite(.serialized, .realTime)
struct RecordingRulesTests {
    @Test(arguments: Backend.allCases)
    func rulesAreInheritedFieldByFieldAndReachTheAgent(_ backend: Backend) async throws {
        try await withAPI(backend) { api, collector, password in
            try await api.logIn(password)
            let emea = try await api.send(
                .post, "/api/v1/admin/node-paths",
                json: #"{"path":"/emea","storage":"builtin","recording_rules":{"fps":5,"exclude_queues":["vip"]}}"#)
            #expect(emea.status == 201, "\(emea.json)")
            let paris = try await api.send(
                .post, "/api/v1/admin/node-paths",
                json: #"{"path":"/emea/paris","storage":"builtin","recording_rules":{"post_roll_seconds":10,"exclude_queues":[]}}"#)
            #expect(paris.status == 201, "\(paris.json)")

            let effective = try await api.send(.get, "/api/v1/admin/recording-rules?path=/emea/paris/sales")
            let rules = effective.json["rules"] as? [String: Any] ?? [:]
            #expect(rules["fps"] as? Int == 5 && rules["post_roll_seconds"] as? Int == 10, "\(effective.json)")
            #expect((rules["exclude_queues"] as? [String])?.isEmpty == true, "the child's empty list wins")
            #expect(rules["auto_resume_seconds"] as? Int == 600 && rules["record_calls"] as? Bool == true, "defaults")
            let sources = effective.json["sources"] as? [String: String] ?? [:]
            #expect(sources == ["fps": "/emea", "exclude_queues": "/emea/paris", "post_roll_seconds": "/emea/paris"])

            for (body, message) in [
                (#"{"recording_rules":{"fps":99}}"#, "recording_rules.fps must be from 1 to 30, found 99"),
                (#"{"recording_rules":{"auto_resume_seconds":1}}"#, "recording_rules.auto_resume_seconds must be from 10"),
                (#"{"recording_rules":{"frames":5}}"#, #"unknown key "recording_rules.frames""#),
            ] {
                let refused = try await api.send(.put, "/api/v1/admin/node-paths/emea", json: body)
                #expect(refused.status == 400 && refused.errorMessage.contains(message), "\(body): \(refused.json)")
            }

            // The agent's configuration carries the rules resolved for its node path.
            let agent = SimulatedAgent(id: "ws-paris", nodePath: "/emea/paris/sales")
            let adminToken = api.token
            api.token = try await agent.enrol(with: collector, actor: adminActor)
            let configuration = try await api.send(.get, "/api/v1/agent/config")
            let delivered = configuration.json["recording_rules"] as? [String: Any] ?? [:]
            #expect(delivered["fps"] as? Int == 5 && delivered["post_roll_seconds"] as? Int == 10, "\(configuration.json)")
            api.token = adminToken

            // `{}` sets nothing: everything is inherited again.
            #expect(try await api.send(.put, "/api/v1/admin/node-paths/emea/paris", json: #"{"recording_rules":{}}"#).status == 200)
            let again = try await api.send(.get, "/api/v1/admin/recording-rules?path=/emea/paris/sales")
            #expect((again.json["rules"] as? [String: Any])?["exclude_queues"] as? [String] == ["vip"], "\(again.json)")
            #expect((again.json["rules"] as? [String: Any])?["post_roll_seconds"] as? Int == 30)
            #expect(try await api.send(.get, "/api/v1/admin/recording-rules").status == 400)
            let entries = try await AuditLog.entries(in: collector.catalog.sql)
            #expect(entries.contains { $0.action == "node_path.create" && $0.detail.contains(#"recording rules {"exclude_queues":["vip"],"fps":5}"#) }, "\(entries.map(\.detail))")
        }
    }
}
