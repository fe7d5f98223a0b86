import CollectorCore
import Foundation
import HummingbirdTesting
import NIOCore
import TestSupport
import TestTraits
import Testing

/// Manifest intake and heartbeats through the API on both databases: verified segments are recorded
/// once, the chain is judged whatever the arrival order, and every refusal is a precise 4xx that
/// records nothing.
@Suite(.serialized, .realTime)
struct ManifestIntakeTests {
    func post(_ api: Session, _ segment: SimulatedAgent.Segment) async throws -> Reply {
        try await api.send(.post, "/api/v1/agent/manifests", raw: ByteBuffer(data: segment.manifestBytes))
    }

    @Test(arguments: Backend.allCases)
    func verifiedSegmentsAreRecordedOnceAndChainedInAnyOrder(_ backend: Backend) async throws {
        try await withAPI(backend) { api, collector, password in
            let agent = SimulatedAgent(id: "ws-0042", nodePath: "/emea/paris/sales")
            api.token = try await agent.enrol(with: collector, actor: adminActor)
            let segments = try (1...4).map { _ in try agent.nextSegment(callId: "call-77") }
            for segment in segments { try agent.upload(segment, to: collector) }

            let first = try await post(api, segments[0])
            #expect(first.status == 201, "\(first.json)")
            #expect(first.json["chain"] as? String == "first")
            #expect(
                first.json["object_path"] as? String
                    == "emea/paris/sales/2026/11/23/ws-0042/call-77/\(segments[0].manifest.segmentFile)")
            let retry = try await post(api, segments[0])
            #expect(
                retry.status == 200
                    && retry.json["manifest_sha256"] as? String == first.json["manifest_sha256"] as? String)

            // Parallel uploads: 3 before 2. 3 waits for its predecessor, then both link.
            #expect(try await post(api, segments[2]).json["chain"] as? String == "pending")
            #expect(try await post(api, segments[1]).json["chain"] as? String == "linked")
            #expect(try await post(api, segments[3]).json["chain"] as? String == "linked")
            let stored = try await collector.segments.all()
            #expect(stored.map(\.sequence) == [1, 2, 3, 4])
            #expect(stored.map(\.chain) == [.first, .linked, .linked, .linked])
            #expect(stored.allSatisfy { $0.manifest.callIds == ["call-77"] && $0.storageTarget == "builtin" })

            // A manifest that names the wrong predecessor is recorded, flagged and audited.
            let forged = try agent.nextSegment { $0.previousManifestSha256 = String(repeating: "0", count: 64) }
            try agent.upload(forged, to: collector)
            let broken = try await post(api, forged)
            #expect(broken.status == 201 && broken.json["chain"] as? String == "broken", "\(broken.json)")
            #expect(
                (broken.json["chain_detail"] as? String ?? "").contains("does not chain to segment 4"), "\(broken.json)"
            )

            try await api.logIn(password)
            let listed = try await api.send(.get, "/api/v1/admin/segments?chain=broken")
            #expect((listed.json["items"] as? [[String: Any]])?.map { ($0["manifest"] as? [String: Any])?["sequence"] as? Int } == [5])
            let byCall = try await api.send(.get, "/api/v1/admin/segments?call_id=call-77&limit=2")
            #expect((byCall.json["items"] as? [Any])?.count == 2)
            let badQuery = try await api.send(.get, "/api/v1/admin/segments?chain=maybe")
            #expect(badQuery.status == 400 && badQuery.errorMessage.contains("first, linked, pending or broken"))
            let audit = try await api.send(.get, "/api/v1/admin/audit")
            let actions = (audit.json["items"] as? [[String: Any]])?.compactMap { $0["action"] as? String } ?? []
            #expect(actions.contains("segment.chain_break"), "\(actions)")
        }
    }

    @Test(arguments: Backend.allCases)
    func refusalsArePreciseAndRecordNothing(_ backend: Backend) async throws {
        try await withAPI(backend) { api, collector, _ in
            let agent = SimulatedAgent(id: "ws-7", nodePath: "/emea")
            let token = try await agent.enrol(with: collector, actor: adminActor)
            api.token = token
            let good = try agent.nextSegment()
            try agent.upload(good, to: collector)
            let text = String(decoding: good.manifestBytes, as: UTF8.self)

            let impostor = SimulatedAgent(id: "ws-7", nodePath: "/emea")
            let otherKey = try impostor.nextSegment()
            try impostor.upload(otherKey, to: collector)
            let otherAgent = try SimulatedAgent(id: "ws-8", nodePath: "/emea").nextSegment()
            let otherPath = try SimulatedAgent(id: "ws-7", nodePath: "/apac").nextSegment()
            let notUploaded = try agent.nextSegment()

            let refusals: [(String, ByteBuffer, Int, String)] = [
                ("not JSON", ByteBuffer(string: "segment please"), 400, "not valid JSON"),
                (
                    "wrong type",
                    ByteBuffer(string: text.replacingOccurrences(of: "\"sequence\":1", with: "\"sequence\":\"1\"")),
                    400, "sequence must be a whole number, found \"1\""
                ),
                (
                    "unknown field", ByteBuffer(string: "{\"extra\":1," + text.dropFirst()), 400,
                    "unknown key \"extra\""
                ),
                ("oversized", ByteBuffer(repeating: 0x20, count: Collector.maximumManifestBytes + 1), 413, "at most"),
                ("another agent's", ByteBuffer(data: otherAgent.manifestBytes), 403, "agent ws-8's"),
                ("another node path", ByteBuffer(data: otherPath.manifestBytes), 403, "enrolled at /emea"),
                ("another key", ByteBuffer(data: otherKey.manifestBytes), 422, "enrolled"),
                (
                    "edited after signing",
                    ByteBuffer(string: text.replacingOccurrences(of: "\"frameCount\":295", with: "\"frameCount\":296")),
                    422, "signature"
                ),
                (
                    "object missing", ByteBuffer(data: notUploaded.manifestBytes), 422,
                    "upload the segment before its manifest"
                ),
            ]
            for (what, body, status, message) in refusals {
                let reply = try await api.send(.post, "/api/v1/agent/manifests", raw: body)
                #expect(
                    reply.status == status && reply.errorMessage.contains(message),
                    "\(what): \(reply.status) \(reply.json)")
            }

            // The stored object was replaced by other bytes of the same size.
            var damaged = good.sealed
            damaged[10] ^= 0xFF
            try agent.upload(good, to: collector, bytes: damaged)
            let tampered = try await post(api, good)
            #expect(tampered.status == 422 && tampered.errorMessage.contains("altered or damaged"), "\(tampered.json)")
            try agent.upload(good, to: collector, bytes: good.sealed.prefix(100))
            let truncated = try await post(api, good)
            #expect(truncated.status == 422 && truncated.errorMessage.contains("holds 100 bytes"), "\(truncated.json)")
            #expect(try await collector.segments.all().isEmpty, "nothing recorded by a refusal")

            api.token = "rca_forged"
            #expect(try await post(api, good).status == 401)
            try await collector.agents.revoke("ws-7", by: adminActor)
            try agent.upload(good, to: collector)
            api.token = token
            let revoked = try await post(api, good)
            #expect(revoked.status == 401, "a revoked agent reports nothing: \(revoked.json)")
            #expect(try await collector.segments.all().isEmpty)
        }
    }

    @Test(arguments: Backend.allCases)
    func heartbeatsGiveClockOffsetAndHealth(_ backend: Backend) async throws {
        try await withAPI(backend) { api, collector, password in
            let agent = SimulatedAgent(id: "ws-3", nodePath: "/")
            api.token = try await agent.enrol(with: collector, actor: adminActor)
            // This workstation's clock runs 90 s ahead.
            let sentAt = Timestamp.string(Date().addingTimeInterval(90))
            let beat = try await api.send(
                .post, "/api/v1/agent/heartbeat",
                json:
                    #"{"agent_version":"0.5.0","sent_at":"\#(sentAt)","round_trip_ms":40,"state":"recording","spool_segments":3,"spool_bytes":4096,"last_error":"PUT https://dav/x: HTTP 507","last_error_at":"\#(sentAt)"}"#
            )
            #expect(beat.status == 200, "\(beat.json)")
            let offset = try #require(beat.json["clock_offset_ms"] as? Int)
            #expect((80_000...90_100).contains(offset), "\(offset)")

            let refusals: [(String, String)] = [
                (
                    #"{"agent_version":"1","sent_at":"yesterday","state":"idle","spool_segments":0,"spool_bytes":0}"#,
                    "sent_at \"yesterday\""
                ),
                (
                    #"{"agent_version":"1","sent_at":"\#(sentAt)","state":"dancing","spool_segments":0,"spool_bytes":0}"#,
                    "state must be one of idle, recording, paused, stopping, found \"dancing\""
                ),
                (
                    #"{"agent_version":"1","sent_at":"\#(sentAt)","state":"idle","spool_segments":"0","spool_bytes":0}"#,
                    "spool_segments"
                ),
                (
                    #"{"agent_version":"1","sent_at":"\#(sentAt)","state":"idle","spool_segments":0,"spool_bytes":0,"cpu":9}"#,
                    "unknown key \"cpu\""
                ),
            ]
            for (body, message) in refusals {
                let reply = try await api.send(.post, "/api/v1/agent/heartbeat", json: body)
                #expect(reply.status == 400 && reply.errorMessage.contains(message), "\(body): \(reply.json)")
            }

            try await api.logIn(password)
            let agents = try await api.send(.get, "/api/v1/admin/agents")
            let listed = try #require((agents.json["items"] as? [[String: Any]])?.first)
            let health = try #require(listed["health"] as? [String: Any], "\(listed)")
            #expect(health["agent_version"] as? String == "0.5.0")
            #expect(health["spool_segments"] as? Int == 3)
            #expect(health["verdict"] as? String == "failing", "an error with segments waiting outranks the skew")
            #expect(health["clock_offset_ms"] as? Int == offset)
            #expect(listed["last_seen_at"] as? String != nil)
        }
    }
}
