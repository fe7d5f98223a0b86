import Crypto
import Foundation
import RecorderCore
import SQLKit

/// The audit log as a hash chain. Each entry has a place (`seq`, 1, 2, … without gaps) and a `hash`:
/// SHA-256 over its place, the previous entry's hash and its own fields. An entry changed in the
/// database no longer matches its hash; one removed leaves a gap; one slipped in breaks the link of
/// the next.
///
/// Someone who can write to the database could also recompute every hash after the entry they
/// changed. So the collector signs checkpoints (`audit_checkpoints`): the chain's head (place and
/// hash) with an HMAC under a key derived from the data directory's secrets key, which is never in
/// the database. A rewritten chain no longer matches the checkpoints signed before the rewrite, and
/// a chain cut short ends before a checkpoint. `verify` checks all of it and names the first entry
/// that is not as it was written.
public enum AuditChain {
    /// The previous hash of the first entry.
    static let genesis = String(repeating: "0", count: 64)
    /// PostgreSQL advisory lock held by the transaction that appends (SQLite has one writer already).
    static let lockKey: Int64 = 0x7263_6175_6469_7431

    struct Fields: Sendable {
        var at: String
        var actor: String
        var action: String
        var target: String
        var detail: String
        var source: String
    }

    /// Every field length-prefixed, so no two different entries hash the same text.
    static func hash(seq: Int64, previous: String, _ fields: Fields) -> String {
        var text = "recorder-audit-v1\n\(seq)\n\(previous)\n"
        for field in [fields.at, fields.actor, fields.action, fields.target, fields.detail, fields.source] {
            text += "\(field.utf8.count):\(field)\n"
        }
        return SHA256.hash(data: Data(text.utf8)).hexString
    }

    static func lock(_ database: any SQLDatabase) async throws {
        if database.dialect.name == "postgresql" {
            try await database.raw("SELECT pg_advisory_xact_lock(\(bind: lockKey))").run()
        }
    }

    static func head(_ database: any SQLDatabase) async throws -> (seq: Int64, hash: String)? {
        try await database.raw("SELECT seq, hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1").first()
            .map { (try $0.decode(column: "seq", as: Int64.self), try $0.decode(column: "hash", as: String.self)) }
    }

    /// Appends one entry at the head, inside the caller's transaction.
    static func append(_ fields: Fields, in database: any SQLDatabase) async throws {
        try await lock(database)
        let head = try await head(database)
        let seq = (head?.seq ?? 0) + 1
        let previous = head?.hash ?? genesis
        try await database.raw(
            """
            INSERT INTO audit_log (at, actor, action, target, detail, source, seq, prev_hash, hash)
            VALUES (\(bind: fields.at), \(bind: fields.actor), \(bind: fields.action), \(bind: fields.target),
                    \(bind: fields.detail), \(bind: fields.source), \(bind: seq), \(bind: previous),
                    \(bind: hash(seq: seq, previous: previous, fields)))
            """
        ).run()
    }

    /// Entries written before the chain existed (or by an older collector during an upgrade), newer
    /// than every chained one, take their places at the head, oldest first. An entry older than the
    /// chain's newest that lost its place is left out: `verify` reports it.
    public static func chainUnplaced(_ catalog: Catalog) async throws {
        while true {
            let placed = try await catalog.transaction { database -> Int in
                try await lock(database)
                let newest =
                    try await database.raw("SELECT MAX(id) AS id FROM audit_log WHERE seq IS NOT NULL").first()?.decode(
                        column: "id", as: Int?.self) ?? 0
                let rows = try await database.raw(
                    """
                    SELECT id, at, actor, action, target, detail, source FROM audit_log
                    WHERE seq IS NULL AND id > \(bind: newest) ORDER BY id LIMIT 500
                    """
                ).all()
                var head = try await head(database)
                for row in rows {
                    let fields = try Self.fields(row)
                    let seq = (head?.seq ?? 0) + 1
                    let previous = head?.hash ?? genesis
                    let digest = hash(seq: seq, previous: previous, fields)
                    try await database.raw(
                        """
                        UPDATE audit_log SET seq = \(bind: seq), prev_hash = \(bind: previous), hash = \(bind: digest)
                        WHERE id = \(bind: try row.decode(column: "id", as: Int.self))
                        """
                    ).run()
                    head = (seq, digest)
                }
                return rows.count
            }
            if placed == 0 { return }
        }
    }

    // MARK: - Checkpoints

    /// The HMAC key of the checkpoints, from the data directory's secrets key.
    public static func checkpointKey(_ secrets: SecretBox) -> SymmetricKey { secrets.derivedKey("audit checkpoints v1") }

    /// Each checkpoint's MAC covers the one before it, so a checkpoint removed from the middle breaks
    /// the next one's.
    static func mac(seq: Int64, hash: String, at: String, previous: String, key: SymmetricKey) -> String {
        HMAC<SHA256>.authenticationCode(for: Data("\(seq)\n\(hash)\n\(at)\n\(previous)".utf8), using: key).hexString
    }

    /// Signs the head if it moved since the last checkpoint; returns the place signed, if any.
    @discardableResult
    public static func checkpoint(_ catalog: Catalog, key: SymmetricKey, now: Date = Date()) async throws -> Int64? {
        try await catalog.transaction { database in
            try await lock(database)
            guard let head = try await head(database) else { return nil }
            let last = try await database.raw("SELECT seq, mac FROM audit_checkpoints ORDER BY seq DESC LIMIT 1").first()
            let lastSeq = try last?.decode(column: "seq", as: Int64.self) ?? 0
            guard lastSeq < head.seq else { return nil }
            let previous = try last?.decode(column: "mac", as: String.self) ?? genesis
            let at = Timestamp.string(now)
            let signature = mac(seq: head.seq, hash: head.hash, at: at, previous: previous, key: key)
            try await database.raw(
                """
                INSERT INTO audit_checkpoints (seq, hash, at, mac)
                VALUES (\(bind: head.seq), \(bind: head.hash), \(bind: at), \(bind: signature))
                """
            ).run()
            return head.seq
        }
    }

    // MARK: - Verification

    public struct Report: Encodable, Sendable, Equatable {
        /// Entries checked, in the chain.
        public var entries: Int64
        public var headSeq: Int64?
        public var headHash: String?
        public var checkpoints: Int
        /// The newest checkpoint's place and time.
        public var lastCheckpointSeq: Int64?
        public var lastCheckpointAt: String?
        /// The first thing that is not as written, in words, and the entry's place (nil: none found).
        public var problem: String?
        public var firstBadSeq: Int64?
        public var ok: Bool { problem == nil }

        enum CodingKeys: String, CodingKey {
            case entries, checkpoints, problem, ok
            case headSeq = "head_seq"
            case headHash = "head_hash"
            case lastCheckpointSeq = "last_checkpoint_seq"
            case lastCheckpointAt = "last_checkpoint_at"
            case firstBadSeq = "first_bad_seq"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(entries, forKey: .entries)
            try container.encode(checkpoints, forKey: .checkpoints)
            try container.encode(problem, forKey: .problem)
            try container.encode(ok, forKey: .ok)
            try container.encode(headSeq, forKey: .headSeq)
            try container.encode(headHash, forKey: .headHash)
            try container.encode(lastCheckpointSeq, forKey: .lastCheckpointSeq)
            try container.encode(lastCheckpointAt, forKey: .lastCheckpointAt)
            try container.encode(firstBadSeq, forKey: .firstBadSeq)
        }
    }

    struct Checkpoint {
        var seq: Int64
        var hash: String
        var at: String
        var mac: String
    }

    /// Walks the whole chain in order, a page at a time; stops at the first problem.
    public static func verify(_ catalog: Catalog, key: SymmetricKey) async throws -> Report {
        let database = catalog.sql
        var report = Report(entries: 0, checkpoints: 0)
        func fail(_ seq: Int64?, _ problem: String) -> Report {
            report.firstBadSeq = seq
            report.problem = problem
            return report
        }
        var checkpoints = try await self.checkpoints(after: 0, in: database)
        var previousSeq: Int64 = 0
        var previousHash = genesis
        var lastGoodCheckpoint: Int64 = 0
        var previousMac = genesis
        while true {
            let rows = try await database.raw(
                """
                SELECT id, seq, prev_hash, hash, at, actor, action, target, detail, source FROM audit_log
                WHERE seq > \(bind: previousSeq) ORDER BY seq LIMIT 1000
                """
            ).all()
            if rows.isEmpty { break }
            for row in rows {
                let seq = try row.decode(column: "seq", as: Int64.self)
                let id = try row.decode(column: "id", as: Int.self)
                let fields = try Self.fields(row)
                let named = "entry \(seq) (id \(id), \(fields.at), \(fields.action) by \(fields.actor))"
                if seq != previousSeq + 1 {
                    let missing = seq - 1 == previousSeq + 1 ? "entry \(previousSeq + 1) is" : "entries \(previousSeq + 1)–\(seq - 1) are"
                    return fail(previousSeq + 1, "\(missing) missing: entry \(previousSeq) is followed by entry \(seq)")
                }
                let stored = try row.decode(column: "hash", as: String?.self)
                let previous = try row.decode(column: "prev_hash", as: String?.self)
                guard previous == previousHash else {
                    return fail(seq, "\(named) does not follow entry \(previousSeq): an entry was replaced or slipped in here")
                }
                guard hash(seq: seq, previous: previousHash, fields) == stored else {
                    return fail(seq, "\(named) was altered: what it says no longer matches its hash")
                }
                previousSeq = seq
                previousHash = stored!
                report.entries += 1
                // The checkpoints signed at this place.
                while let checkpoint = checkpoints.first, checkpoint.seq <= seq {
                    checkpoints.removeFirst()
                    if checkpoints.isEmpty { checkpoints = try await self.checkpoints(after: checkpoint.seq, in: database) }
                    guard
                        checkpoint.mac
                            == mac(seq: checkpoint.seq, hash: checkpoint.hash, at: checkpoint.at, previous: previousMac, key: key)
                    else {
                        return fail(
                            checkpoint.seq,
                            "the checkpoint at entry \(checkpoint.seq) (\(checkpoint.at)) is not signed with this collector's key after the one before it: it was altered or forged, or a checkpoint before it was removed")
                    }
                    previousMac = checkpoint.mac
                    guard checkpoint.seq == seq, checkpoint.hash == previousHash else {
                        return fail(
                            lastGoodCheckpoint + 1,
                            "the chain no longer matches the checkpoint signed at entry \(checkpoint.seq) (\(checkpoint.at)): entries \(lastGoodCheckpoint + 1)–\(checkpoint.seq) were rewritten and their hashes recomputed"
                        )
                    }
                    lastGoodCheckpoint = checkpoint.seq
                    report.checkpoints += 1
                    report.lastCheckpointSeq = checkpoint.seq
                    report.lastCheckpointAt = checkpoint.at
                }
            }
        }
        report.headSeq = previousSeq == 0 ? nil : previousSeq
        report.headHash = previousSeq == 0 ? nil : previousHash
        if let checkpoint = checkpoints.first {
            return fail(
                previousSeq + 1,
                "the log ends at entry \(previousSeq), but the checkpoint of \(checkpoint.at) saw entry \(checkpoint.seq): entries \(previousSeq + 1)–\(checkpoint.seq) were deleted")
        }
        // Rows the walk did not meet: placed before the first place, or with no place at all.
        if let row = try await database.raw(
            "SELECT id, seq, at, action FROM audit_log WHERE seq < 1 ORDER BY id LIMIT 1"
        ).first() {
            return fail(
                try row.decode(column: "seq", as: Int64.self),
                "the entry with id \(try row.decode(column: "id", as: Int.self)) (\(try row.decode(column: "at", as: String.self)), \(try row.decode(column: "action", as: String.self))) sits outside the chain, at place \(try row.decode(column: "seq", as: Int64.self)): it was slipped in")
        }
        if let row = try await database.raw("SELECT id, at, action FROM audit_log WHERE seq IS NULL ORDER BY id LIMIT 1").first() {
            let id = try row.decode(column: "id", as: Int.self)
            return fail(
                nil,
                "the entry with id \(id) (\(try row.decode(column: "at", as: String.self)), \(try row.decode(column: "action", as: String.self))) has lost its place in the chain")
        }
        return report
    }

    private static func checkpoints(after seq: Int64, in database: any SQLDatabase) async throws -> [Checkpoint] {
        try await database.raw(
            "SELECT seq, hash, at, mac FROM audit_checkpoints WHERE seq > \(bind: seq) ORDER BY seq LIMIT 1000"
        ).all().map {
            Checkpoint(
                seq: try $0.decode(column: "seq", as: Int64.self), hash: try $0.decode(column: "hash", as: String.self),
                at: try $0.decode(column: "at", as: String.self), mac: try $0.decode(column: "mac", as: String.self))
        }
    }

    private static func fields(_ row: any SQLRow) throws -> Fields {
        Fields(
            at: try row.decode(column: "at", as: String.self), actor: try row.decode(column: "actor", as: String.self),
            action: try row.decode(column: "action", as: String.self),
            target: try row.decode(column: "target", as: String.self),
            detail: try row.decode(column: "detail", as: String.self),
            source: try row.decode(column: "source", as: String.self))
    }
}

extension Collector {
    /// Verifies the audit chain, then records that it did (with what it found) and, when intact, signs
    /// the head, so the next verification starts from a checkpoint that includes this one.
    public func verifyAudit(by actor: Actor) async throws -> AuditChain.Report {
        let report = try await AuditChain.verify(catalog, key: auditKey)
        let detail = report.problem ?? "intact: \(report.entries) entries"
        try await AuditLog.record(report.ok ? "audit.verify" : "audit.verify_failed", target: "audit", detail: detail, by: actor, in: catalog)
        if report.ok { try await AuditChain.checkpoint(catalog, key: auditKey) }
        return report
    }
}
