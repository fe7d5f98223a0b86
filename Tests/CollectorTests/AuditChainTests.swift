@testable import CollectorCore
import Foundation
import Logging
import RecorderCore
import SQLKit
import TestSupport
import TestTraits
import Testing

/// The audit trail is tamper-evident: a row changed, removed or slipped in, a chain rewritten with
/// recomputed hashes, a tail cut off, a forged checkpoint are each found and named, on SQLite and on
/// PostgreSQL, by the same checks an admin runs (`recorder-collector audit verify`).
@Suite(.serialized, .realTime)
struct AuditChainTests {
    /// A collector with a dozen entries of ordinary admin work, the head signed after the first eight.
    static func withTrail(_ backend: Backend, _ body: (Collector) async throws -> Void) async throws {
        try await withCollector(backend) { collector in
            for index in 0..<4 {
                _ = try await collector.integrations.create(name: "pbx-\(index)", kind: .webhook, by: adminActor)
                try await collector.integrations.revoke("pbx-\(index)", by: adminActor)
            }
            try await AuditChain.checkpoint(collector.catalog, key: collector.auditKey)
            for index in 4..<6 {
                _ = try await collector.integrations.create(name: "pbx-\(index)", kind: .webhook, by: adminActor)
                try await collector.integrations.revoke("pbx-\(index)", by: adminActor)
            }
            try await body(collector)
        }
    }

    static func seq(of action: String, target: String, in collector: Collector) async throws -> Int64 {
        try #require(
            try await collector.catalog.sql.raw(
                "SELECT seq FROM audit_log WHERE action = \(bind: action) AND target = \(bind: target)"
            ).first()?.decode(column: "seq", as: Int64.self))
    }

    @Test(arguments: Backend.allCases)
    func anIntactTrailVerifiesAndEveryVerificationIsItselfRecordedAndSigned(_ backend: Backend) async throws {
        try await Self.withTrail(backend) { collector in
            let report = try await collector.verifyAudit(by: adminActor)
            #expect(report.ok, "\(String(describing: report.problem))")
            #expect(report.checkpoints == 1 && report.entries == report.headSeq)
            let again = try await collector.verifyAudit(by: adminActor)
            #expect(again.ok && again.checkpoints == 2 && again.entries == report.entries + 1, "the first verify is in the chain")
            let newest = try #require(try await AuditLog.entries(limit: 1, in: collector.catalog.sql).first)
            #expect(newest.action == "audit.verify" && newest.detail.hasPrefix("intact"))
        }
    }

    @Test(arguments: Backend.allCases)
    func aChangedRowIsNamed(_ backend: Backend) async throws {
        try await Self.withTrail(backend) { collector in
            let seq = try await Self.seq(of: "integration.create", target: "integration:pbx-2", in: collector)
            try await collector.catalog.sql.raw(
                "UPDATE audit_log SET actor = 'user:mallory' WHERE seq = \(bind: seq)"
            ).run()
            let report = try await AuditChain.verify(collector.catalog, key: collector.auditKey)
            #expect(report.firstBadSeq == seq, "\(String(describing: report.problem))")
            #expect(report.problem?.contains("entry \(seq)") == true && report.problem?.contains("was altered") == true)
            // An admin's verification says so, and records that it failed.
            let verified = try await collector.verifyAudit(by: adminActor)
            #expect(!verified.ok)
            #expect(try await AuditLog.entries(limit: 1, in: collector.catalog.sql).first?.action == "audit.verify_failed")
        }
    }

    @Test(arguments: Backend.allCases)
    func aRemovedOrInsertedRowIsNamed(_ backend: Backend) async throws {
        try await Self.withTrail(backend) { collector in
            let seq = try await Self.seq(of: "integration.revoke", target: "integration:pbx-1", in: collector)
            try await collector.catalog.sql.raw("DELETE FROM audit_log WHERE seq = \(bind: seq)").run()
            let report = try await AuditChain.verify(collector.catalog, key: collector.auditKey)
            #expect(report.firstBadSeq == seq && report.problem?.contains("entry \(seq) is missing") == true, "\(String(describing: report.problem))")
        }
        try await Self.withTrail(backend) { collector in
            // A forged entry takes the place of a real one, with a correct-looking hash of its own.
            let seq = try await Self.seq(of: "integration.create", target: "integration:pbx-5", in: collector)
            let forged = AuditChain.Fields(
                at: "2026-12-01T10:00:00.000Z", actor: "user:alice", action: "user.create", target: "user:mallory", detail: "",
                source: "cli")
            try await collector.catalog.sql.raw(
                """
                UPDATE audit_log SET at = \(bind: forged.at), actor = \(bind: forged.actor), action = \(bind: forged.action),
                target = \(bind: forged.target), detail = '', source = 'cli', prev_hash = \(bind: String(repeating: "a", count: 64)),
                hash = \(bind: AuditChain.hash(seq: seq, previous: String(repeating: "a", count: 64), forged)) WHERE seq = \(bind: seq)
                """
            ).run()
            let report = try await AuditChain.verify(collector.catalog, key: collector.auditKey)
            #expect(report.firstBadSeq == seq && report.problem?.contains("does not follow") == true, "\(String(describing: report.problem))")
        }
    }

    /// Someone with the database but not the data directory rewrites an entry and recomputes every
    /// hash after it: the chain is consistent again, but not with the checkpoint signed before.
    @Test(arguments: Backend.allCases)
    func aRewrittenChainWithRecomputedHashesAndACutTailAreFound(_ backend: Backend) async throws {
        try await Self.withTrail(backend) { collector in
            let seq = try await Self.seq(of: "integration.create", target: "integration:pbx-1", in: collector)
            try await collector.catalog.sql.raw("UPDATE audit_log SET detail = 'nothing to see' WHERE seq = \(bind: seq)").run()
            try await Self.recomputeChain(collector, from: seq)
            let report = try await AuditChain.verify(collector.catalog, key: collector.auditKey)
            let problem = report.problem ?? ""
            #expect(problem.contains("were rewritten") && report.firstBadSeq == 1 && report.firstBadSeq! <= seq, "\(problem)")
        }
        try await Self.withTrail(backend) { collector in
            let signed = try #require(try await AuditChain.verify(collector.catalog, key: collector.auditKey).lastCheckpointSeq)
            try await collector.catalog.sql.raw("DELETE FROM audit_log WHERE seq >= \(bind: signed - 1)").run()
            let report = try await AuditChain.verify(collector.catalog, key: collector.auditKey)
            #expect(report.problem?.contains("were deleted") == true && report.firstBadSeq == signed - 1, "\(String(describing: report.problem))")
        }
        try await Self.withTrail(backend) { collector in
            // A checkpoint made up to bless a rewrite: its signature is not the collector's.
            try await collector.catalog.sql.raw("UPDATE audit_checkpoints SET mac = \(bind: String(repeating: "0", count: 64))").run()
            let report = try await AuditChain.verify(collector.catalog, key: collector.auditKey)
            #expect(report.problem?.contains("not signed with this collector's key") == true, "\(String(describing: report.problem))")
        }
        try await Self.withTrail(backend) { collector in
            // A second checkpoint, then the first removed: the second no longer follows.
            try await AuditChain.checkpoint(collector.catalog, key: collector.auditKey)
            try await collector.catalog.sql.raw("DELETE FROM audit_checkpoints WHERE seq = (SELECT MIN(seq) FROM audit_checkpoints)").run()
            let report = try await AuditChain.verify(collector.catalog, key: collector.auditKey)
            #expect(report.problem?.contains("a checkpoint before it was removed") == true, "\(String(describing: report.problem))")
        }
        try await Self.withTrail(backend) { collector in
            // A row slipped in at a place the walk never visits, or its link column changed alone.
            try await collector.catalog.sql.raw(
                """
                INSERT INTO audit_log (at, actor, action, target, detail, source, seq, prev_hash, hash)
                VALUES ('2026-12-01T10:00:00.000Z', 'user:alice', 'user.create', 'user:mallory', '', 'cli', -1, '', '')
                """
            ).run()
            let report = try await AuditChain.verify(collector.catalog, key: collector.auditKey)
            #expect(report.problem?.contains("sits outside the chain") == true, "\(String(describing: report.problem))")
        }
        try await Self.withTrail(backend) { collector in
            try await collector.catalog.sql.raw("UPDATE audit_log SET prev_hash = \(bind: String(repeating: "b", count: 64)) WHERE seq = 4").run()
            let report = try await AuditChain.verify(collector.catalog, key: collector.auditKey)
            #expect(report.firstBadSeq == 4 && report.problem?.contains("does not follow") == true, "\(String(describing: report.problem))")
        }
    }

    static func recomputeChain(_ collector: Collector, from seq: Int64) async throws {
        var previous =
            try await collector.catalog.sql.raw("SELECT hash FROM audit_log WHERE seq = \(bind: seq - 1)").first()?.decode(
                column: "hash", as: String.self) ?? AuditChain.genesis
        let rows = try await collector.catalog.sql.raw(
            "SELECT seq, at, actor, action, target, detail, source FROM audit_log WHERE seq >= \(bind: seq) ORDER BY seq"
        ).all()
        for row in rows {
            let place = try row.decode(column: "seq", as: Int64.self)
            let fields = AuditChain.Fields(
                at: try row.decode(column: "at", as: String.self), actor: try row.decode(column: "actor", as: String.self),
                action: try row.decode(column: "action", as: String.self), target: try row.decode(column: "target", as: String.self),
                detail: try row.decode(column: "detail", as: String.self), source: try row.decode(column: "source", as: String.self))
            let hash = AuditChain.hash(seq: place, previous: previous, fields)
            try await collector.catalog.sql.raw(
                "UPDATE audit_log SET prev_hash = \(bind: previous), hash = \(bind: hash) WHERE seq = \(bind: place)"
            ).run()
            previous = hash
        }
    }

    /// Many changes at once (PostgreSQL: several connections) take one place each, with no gap.
    @Test(arguments: Backend.allCases)
    func concurrentChangesMakeOneUnbrokenChain(_ backend: Backend) async throws {
        try await withCollector(backend) { collector in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        _ = try await collector.integrations.create(name: "feed-\(index)", kind: .webhook, by: adminActor)
                    }
                }
                try await group.waitForAll()
            }
            let report = try await AuditChain.verify(collector.catalog, key: collector.auditKey)
            #expect(report.ok && report.entries >= 40, "\(String(describing: report.problem))")
        }
    }

    /// Entries from before the chain (an upgraded catalog) take their places when the collector opens;
    /// an entry that loses its place later is reported, not quietly put back.
    @Test func entriesFromBeforeTheChainAreChainedOnceAndALostPlaceIsReported() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString)")
        /// The same data directory and catalog each time, as after a restart.
        func reopened(_ body: (Collector) async throws -> Void) async throws {
            let collector = try await Collector.open(
                dataDirectory: directory, hashing: .fast, recordingKeyBits: 2048, logger: Logger(label: "test"))
            do {
                try await body(collector)
            } catch {
                await collector.close()
                throw error
            }
            await collector.close()
        }
        try await reopened { collector in
            for index in 0..<3 {
                try await collector.catalog.sql.raw(
                    """
                    INSERT INTO audit_log (at, actor, action, target, detail, source)
                    VALUES ('2026-11-0\(unsafeRaw: String(index + 1))T09:00:00.000Z', 'user:old', 'node_path.create', 'node_path:/old/\(unsafeRaw: String(index))', '', 'cli')
                    """
                ).run()
            }
        }
        try await reopened { collector in
            let report = try await AuditChain.verify(collector.catalog, key: collector.auditKey)
            #expect(report.ok, "\(String(describing: report.problem))")
            let old = try await collector.catalog.sql.raw(
                "SELECT seq FROM audit_log WHERE actor = 'user:old' ORDER BY id").all().map { try $0.decode(column: "seq", as: Int64?.self) }
            #expect(old.count == 3 && old.allSatisfy { $0 != nil }, "\(old)")
            try await collector.catalog.sql.raw(
                "UPDATE audit_log SET seq = NULL, prev_hash = NULL, hash = NULL WHERE target = 'node_path:/old/1'").run()
        }
        try await reopened { collector in
            let report = try await AuditChain.verify(collector.catalog, key: collector.auditKey)
            #expect(report.problem?.contains("is missing") == true, "\(String(describing: report.problem))")
        }
    }
}
