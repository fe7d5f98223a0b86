import Foundation
import RecorderCore
import SQLKit

/// The segment catalog: one row per verified manifest, keyed by agent, sequence and manifest hash, so
/// a retried report is recognised and a second manifest for the same sequence (a reset or forked agent
/// chain) is kept and flagged rather than refused — a recording is never dropped for its chain.
public struct Segments: Sendable {
    let catalog: Catalog

    public init(catalog: Catalog) {
        self.catalog = catalog
    }

    public enum Recorded: Sendable, Equatable {
        case added(SegmentRecord)
        /// The catalog holds this exact manifest already (a retry after a lost answer).
        case duplicate(SegmentRecord)
    }

    /// Every catalogued version of one place in an agent's chain (one, unless its chain broke there).
    public func records(agentId: String, sequence: Int) async throws -> [SegmentRecord] {
        try await catalog.sql.raw(
            "SELECT * FROM segments WHERE agent_id = \(bind: agentId) AND sequence = \(bind: sequence) LIMIT 10"
        ).all().map(SegmentRecord.init(row:))
    }

    public func find(agentId: String, sequence: Int, manifestSha256: String) async throws -> SegmentRecord? {
        try await catalog.sql.raw(
            """
            SELECT * FROM segments WHERE agent_id = \(bind: agentId) AND sequence = \(bind: sequence)
            AND manifest_sha256 = \(bind: manifestSha256)
            """
        ).first().map(SegmentRecord.init(row:))
    }

    /// Adds the row and its call links, then re-judges the chain of this sequence and the next (whose
    /// predecessor may just have arrived), all in one transaction; on PostgreSQL under a per-agent lock,
    /// so two segments of one agent arriving together cannot each miss the other. The chain's final
    /// state therefore does not depend on arrival order, which is what makes reindexing reproducible.
    /// Returns the stored row (or the one already there); breaks it causes are audited here.
    public func record(
        _ record: SegmentRecord, manifestText: String, by actor: Actor
    ) async throws -> Recorded {
        let postgres = catalog.isPostgres
        return try await catalog.transaction { database in
            if postgres {
                try await database.raw("SELECT pg_advisory_xact_lock(hashtext(\(bind: record.agentId)))").run()
            }
            if let existing = try await database.raw(
                """
                SELECT * FROM segments WHERE agent_id = \(bind: record.agentId) AND sequence = \(bind: record.sequence)
                AND manifest_sha256 = \(bind: record.manifestSha256)
                """
            ).first() {
                return .duplicate(try SegmentRecord(row: existing))
            }
            let columns = try record.columns(manifestText: manifestText)
            try await database.insert(into: "segments").columns(columns.map(\.name)).values(columns.map(\.value))
                .run()
            for callId in Set(record.manifest.callIds) {
                try await database.raw(
                    """
                    INSERT INTO segment_calls (call_id, agent_id, sequence, manifest_sha256)
                    VALUES (\(bind: callId), \(bind: record.agentId), \(bind: record.sequence), \(bind: record.manifestSha256))
                    """
                ).run()
            }
            for leg in Set(record.manifest.legs ?? []) {
                try await database.raw(
                    """
                    INSERT INTO segment_legs (interaction_id, leg_id, agent_id, sequence, manifest_sha256)
                    VALUES (\(bind: leg.interactionId), \(bind: leg.legId), \(bind: record.agentId), \(bind: record.sequence),
                        \(bind: record.manifestSha256))
                    """
                ).run()
            }
            for sequence in [record.sequence, record.sequence + 1] {
                for row in try await database.raw(
                    "SELECT * FROM segments WHERE agent_id = \(bind: record.agentId) AND sequence = \(bind: sequence)"
                ).all() {
                    let segment = try SegmentRecord(row: row)
                    let (state, detail) = try await SegmentChain.judge(segment, in: database)
                    guard state != segment.chain || detail != segment.chainDetail else { continue }
                    try await database.raw(
                        """
                        UPDATE segments SET chain = \(bind: state.rawValue), chain_detail = \(bind: detail)
                        WHERE agent_id = \(bind: segment.agentId) AND sequence = \(bind: segment.sequence)
                        AND manifest_sha256 = \(bind: segment.manifestSha256)
                        """
                    ).run()
                    if state == .broken {
                        try await AuditLog.record(
                            "segment.chain_break", target: "agent:\(segment.agentId)",
                            detail: "segment \(segment.sequence) (\(segment.manifest.segmentFile)): \(detail ?? "")", by: actor,
                            in: database)
                    }
                }
            }
            guard
                let stored = try await database.raw(
                    """
                    SELECT * FROM segments WHERE agent_id = \(bind: record.agentId) AND sequence = \(bind: record.sequence)
                    AND manifest_sha256 = \(bind: record.manifestSha256)
                    """
                ).first()
            else { throw CollectorError(.notFound, "segment vanished during intake") }
            return .added(try SegmentRecord(row: stored))
        }
    }

    public struct Query: Sendable {
        public var agentId: String?
        public var callId: String?
        public var chain: SegmentRecord.ChainState?
        /// First-frame time bounds, RFC 3339 text (inclusive from, exclusive to).
        public var from: String?
        public var to: String?
        public var limit = 100

        public init(
            agentId: String? = nil, callId: String? = nil, chain: SegmentRecord.ChainState? = nil, from: String? = nil,
            to: String? = nil, limit: Int = 100
        ) {
            self.agentId = agentId
            self.callId = callId
            self.chain = chain
            self.from = from
            self.to = to
            self.limit = limit
        }
    }

    /// Segments matching every given filter, oldest first.
    public func list(_ query: Query) async throws -> [SegmentRecord] {
        guard (1...10_000).contains(query.limit) else {
            throw CollectorError(.invalid, "limit must be between 1 and 10000, found \(query.limit)")
        }
        var conditions: [SQLQueryString] = []
        if let agentId = query.agentId { conditions.append("s.agent_id = \(bind: agentId)") }
        if let chain = query.chain { conditions.append("s.chain = \(bind: chain.rawValue)") }
        if let from = query.from { conditions.append("s.first_frame_time >= \(bind: from)") }
        if let to = query.to { conditions.append("s.first_frame_time < \(bind: to)") }
        if let callId = query.callId {
            conditions.append(
                """
                EXISTS (SELECT 1 FROM segment_calls c WHERE c.call_id = \(bind: callId) AND c.agent_id = s.agent_id
                AND c.sequence = s.sequence AND c.manifest_sha256 = s.manifest_sha256)
                """)
        }
        var statement: SQLQueryString = "SELECT s.* FROM segments s"
        if !conditions.isEmpty {
            statement = statement + " WHERE " + conditions.joined(separator: " AND ")
        }
        statement = statement + " ORDER BY s.first_frame_time, s.agent_id, s.sequence LIMIT \(bind: query.limit)"
        return try await catalog.sql.raw(statement).all().map(SegmentRecord.init(row:))
    }

    /// Every row, in a stable order (reindex comparisons, exports).
    public func all() async throws -> [SegmentRecord] {
        try await catalog.sql.raw("SELECT * FROM segments ORDER BY agent_id, sequence, manifest_sha256").all().map(
            SegmentRecord.init(row:))
    }

    /// Per agent: how many segments, how many break the chain, how many wait for a predecessor.
    public func chainSummary() async throws -> [String: ChainSummary] {
        var summary: [String: ChainSummary] = [:]
        for row in try await catalog.sql.raw(
            "SELECT agent_id, chain, COUNT(*) AS n FROM segments GROUP BY agent_id, chain"
        ).all() {
            let agent = try row.decode(column: "agent_id", as: String.self)
            let count = try row.decode(column: "n", as: Int.self)
            switch SegmentRecord.ChainState(rawValue: try row.decode(column: "chain", as: String.self)) {
            case .broken: summary[agent, default: .init()].broken += count
            case .pending: summary[agent, default: .init()].pending += count
            default: break
            }
            summary[agent, default: .init()].segments += count
        }
        return summary
    }

    public struct ChainSummary: Codable, Sendable, Equatable {
        public var segments = 0
        public var broken = 0
        public var pending = 0

        public init() {}
    }
}
