import Foundation
import RecorderCore
import SQLKit

/// The correlation job: every call whose events, voice or screen changed is matched again and its
/// links stored (`call_links`, `call_correlations`), for search and for "is this call's timeline
/// complete". Several collectors on one PostgreSQL share the queue without doing one call twice: a
/// worker leases a batch with `FOR UPDATE SKIP LOCKED`, and another worker skips what is leased. A
/// lease runs out after `leaseSeconds`, so a collector that dies mid-batch delays its calls, never
/// loses them. The timeline itself is always computed fresh (`Collector.timeline`); the job's results
/// are what the catalog can be searched by.
public struct CorrelationJob: Sendable {
    let collector: Collector
    /// Who holds a lease: unique per process.
    public let worker: String
    static let leaseSeconds: TimeInterval = 60
    static let batch = 20

    public init(collector: Collector, worker: String = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8))") {
        self.collector = collector
        self.worker = worker
    }

    /// Marks calls for the job, inside the caller's transaction when it has one.
    static func enqueue(_ calls: [(integration: String, interaction: String)], in database: any SQLDatabase) async throws {
        let now = Timestamp.now()
        for call in calls {
            try await database.raw(
                """
                INSERT INTO correlation_queue (integration, interaction_id, due_at, version, attempts)
                VALUES (\(bind: call.integration), \(bind: call.interaction), \(bind: now), 1, 0)
                ON CONFLICT (integration, interaction_id) DO UPDATE SET due_at = excluded.due_at,
                    version = correlation_queue.version + 1, attempts = 0
                """
            ).run()
        }
    }

    /// Calls waiting for the job (leased or not).
    public func waiting() async throws -> Int {
        try await collector.catalog.sql.raw("SELECT COUNT(*) AS n FROM correlation_queue").first()?.decode(
            column: "n", as: Int.self) ?? 0
    }

    /// Leases a batch, correlates it, and returns how many calls it did.
    public func runOnce(now: Date = Date()) async throws -> Int {
        let catalog = collector.catalog
        let at = Timestamp.string(now)
        let until = Timestamp.string(now.addingTimeInterval(Self.leaseSeconds))
        // SKIP LOCKED: another collector's batch is passed over, not waited for. The outer condition is
        // checked again on the row as it is when locked, so a row leased meanwhile is never leased twice.
        let lock: SQLQueryString = catalog.isPostgres ? " FOR UPDATE SKIP LOCKED" : ""
        let leased = try await catalog.sql.raw(
            """
            UPDATE correlation_queue SET claimed_by = \(bind: worker), claimed_until = \(bind: until)
            WHERE (claimed_until IS NULL OR claimed_until < \(bind: at)) AND (integration, interaction_id) IN (
                SELECT integration, interaction_id FROM correlation_queue
                WHERE due_at <= \(bind: at) AND (claimed_until IS NULL OR claimed_until < \(bind: at))
                ORDER BY due_at LIMIT \(bind: Self.batch)\(lock))
            RETURNING integration, interaction_id, version, attempts
            """
        ).all().map {
            (
                integration: try $0.decode(column: "integration", as: String.self),
                interaction: try $0.decode(column: "interaction_id", as: String.self),
                version: try $0.decode(column: "version", as: Int64.self),
                attempts: try $0.decode(column: "attempts", as: Int64.self)
            )
        }
        var failures: [String] = []
        for item in leased {
            let key: SQLQueryString =
                "integration = \(bind: item.integration) AND interaction_id = \(bind: item.interaction) AND claimed_by = \(bind: worker)"
            // The lease runs from this item, not from the batch's start: a slow batch is never done twice.
            try await catalog.sql.raw(
                "UPDATE correlation_queue SET claimed_until = \(bind: Timestamp.string(Date().addingTimeInterval(Self.leaseSeconds))) WHERE "
                    + key
            ).run()
            do {
                try await correlate(integration: item.integration, interaction: item.interaction, now: now)
            } catch {
                // This call waits (1 s, 2 s, … 10 min) and the rest of the batch goes on.
                let wait = min(pow(2, Double(item.attempts)), 600)
                try await catalog.sql.raw(
                    """
                    UPDATE correlation_queue SET claimed_by = NULL, claimed_until = NULL, attempts = attempts + 1,
                        due_at = \(bind: Timestamp.string(Date().addingTimeInterval(wait)))
                    WHERE
                    """ + key
                ).run()
                failures.append("\(item.interaction): \(error)")
                continue
            }
            // Done with the version read; a call touched meanwhile (a newer version) stays, unleased.
            try await catalog.transaction { database in
                try await database.raw("DELETE FROM correlation_queue WHERE " + key + " AND version = \(bind: item.version)")
                    .run()
                try await database.raw(
                    "UPDATE correlation_queue SET claimed_by = NULL, claimed_until = NULL WHERE " + key
                ).run()
            }
        }
        if let failure = failures.first {
            throw CorrelationFailure(description: "\(failures.count) call(s) could not be matched, retried later: \(failure)")
        }
        return leased.count
    }

    public struct CorrelationFailure: Error, CustomStringConvertible {
        public let description: String
    }

    /// One call: its links replaced by what the catalog says now. A key that is no catalogued call (a
    /// voice recording that came before its events, or that names no call the catalog will ever
    /// have) passes the job on to the calls its recordings may belong to.
    func correlate(integration: String, interaction: String, now: Date) async throws {
        guard let timeline = try await collector.timeline(interaction, integration: integration, now: now) else {
            let recordings = try await collector.voice.list(interactionId: interaction).filter {
                $0.integration == integration
            }
            var candidates: [(integration: String, interaction: String)] = []
            for record in recordings {
                if let sip = record.sipCallId {
                    candidates += try await collector.catalog.sql.raw(
                        """
                        SELECT DISTINCT integration, interaction_id FROM call_legs
                        WHERE leg_id = \(bind: sip) OR interaction_id = \(bind: sip) LIMIT 20
                        """
                    ).all().map {
                        (try $0.decode(column: "integration", as: String.self), try $0.decode(column: "interaction_id", as: String.self))
                    }
                }
                if let best = try await collector.bestCall(for: record) { candidates.append((best.integration, best.call)) }
            }
            if !candidates.isEmpty {
                let calls = candidates
                try await collector.catalog.transaction { try await Self.enqueue(calls, in: $0) }
            }
            return
        }
        // A view of several calls (a softphone transfer) is stored under each of them: whichever is
        // searched for finds the whole view, and none of them takes the others' recordings away.
        let members = timeline.calls.map { (integration: $0.integration, interaction: $0.interactionId) }
        try await collector.catalog.transaction { database in
            var links: [(kind: String, id: String, method: String, confidence: Double, offset: Int64, uncertainty: Int64?)] =
                timeline.voice.map { ("voice", $0.id, $0.match.method, $0.match.confidence, $0.offsetMs, $0.uncertaintyMs) }
            links += timeline.screen.map {
                ("screen", "\($0.agentId)/\($0.sequence)", $0.match.method, $0.match.confidence, $0.offsetMs, $0.uncertaintyMs)
            }
            for member in members {
                try await database.raw(
                    "DELETE FROM call_links WHERE integration = \(bind: member.integration) AND interaction_id = \(bind: member.interaction)"
                ).run()
                for link in links {
                    try await database.raw(
                        """
                        INSERT INTO call_links (integration, interaction_id, kind, object_id, method, confidence_permille,
                            offset_ms, uncertainty_ms)
                        VALUES (\(bind: member.integration), \(bind: member.interaction), \(bind: link.kind), \(bind: link.id),
                            \(bind: link.method), \(bind: Int64((link.confidence * 1000).rounded())), \(bind: link.offset),
                            \(bind: link.uncertainty))
                        ON CONFLICT (integration, interaction_id, kind, object_id) DO NOTHING
                        """
                    ).run()
                }
                try await database.raw(
                    """
                    INSERT INTO call_correlations (integration, interaction_id, correlated_at, voice, screen,
                        max_uncertainty_ms, within_limit, runs)
                    VALUES (\(bind: member.integration), \(bind: member.interaction), \(bind: Timestamp.string(now)),
                        \(bind: timeline.voice.count), \(bind: timeline.screen.count), \(bind: timeline.sync.maxUncertaintyMs),
                        \(bind: timeline.sync.withinLimit ? 1 : 0), 1)
                    ON CONFLICT (integration, interaction_id) DO UPDATE SET correlated_at = excluded.correlated_at,
                        voice = excluded.voice, screen = excluded.screen, max_uncertainty_ms = excluded.max_uncertainty_ms,
                        within_limit = excluded.within_limit, runs = call_correlations.runs + 1
                    """
                ).run()
            }
            // A voice recording belongs to one view: another call that still lists one of these (it was its
            // best match until this call came) is matched again, and lets it go.
            let voiceIds = timeline.voice.map(\.id)
            if !voiceIds.isEmpty {
                let holders = try await database.raw(
                    """
                    SELECT DISTINCT integration, interaction_id FROM call_links WHERE kind = 'voice'
                    AND object_id IN (\(binds: voiceIds))
                    """
                ).all().map {
                    (integration: try $0.decode(column: "integration", as: String.self), interaction: try $0.decode(column: "interaction_id", as: String.self))
                }.filter { holder in !members.contains { $0 == holder } }
                try await Self.enqueue(holders, in: database)
            }
        }
    }

    /// What the job last stored for a call.
    public struct Result: Codable, Sendable, Equatable {
        public var correlatedAt: String
        public var voice: Int
        public var screen: Int
        public var maxUncertaintyMs: Int64?
        public var withinLimit: Bool
        public var runs: Int
    }

    public func result(integration: String, interaction: String) async throws -> Result? {
        try await collector.catalog.sql.raw(
            """
            SELECT * FROM call_correlations WHERE integration = \(bind: integration) AND interaction_id = \(bind: interaction)
            """
        ).first().map {
            Result(
                correlatedAt: try $0.decode(column: "correlated_at", as: String.self),
                voice: try $0.decode(column: "voice", as: Int.self), screen: try $0.decode(column: "screen", as: Int.self),
                maxUncertaintyMs: try $0.decode(column: "max_uncertainty_ms", as: Int64?.self),
                withinLimit: try $0.decode(column: "within_limit", as: Int.self) == 1,
                runs: try $0.decode(column: "runs", as: Int.self))
        }
    }

    /// The links stored for a call, by kind and offset.
    public func links(integration: String, interaction: String) async throws -> [(kind: String, id: String, method: String)] {
        try await collector.catalog.sql.raw(
            """
            SELECT kind, object_id, method FROM call_links WHERE integration = \(bind: integration)
            AND interaction_id = \(bind: interaction) ORDER BY kind, offset_ms, object_id
            """
        ).all().map {
            (
                try $0.decode(column: "kind", as: String.self), try $0.decode(column: "object_id", as: String.self),
                try $0.decode(column: "method", as: String.self)
            )
        }
    }
}
