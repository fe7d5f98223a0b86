import Foundation
import RecorderCore
import SQLKit

/// The call catalog: interactions and their legs as the events tell them (`CallProjection`), with how
/// many screen segments each leg has. Rebuilt per interaction inside the transaction that stores one of
/// its events, so a reader never sees an event without its effect on the call.
public struct CallCatalog: Sendable {
    let catalog: Catalog

    /// Folds each interaction again from all its stored events and replaces its rows. On PostgreSQL
    /// under a per-interaction lock taken after this transaction stored its events and before it reads
    /// them: of two posts for one call, the second to take the lock sees the first's events committed,
    /// so the last projection written holds every event (without it, each could miss the other's and
    /// the two conflicted on the calls row). Sorted, so two posts lock in the same order.
    ///
    /// Calls are kept apart per integration: two phone systems may use one interaction id, and one
    /// must never end the other's call.
    static func reproject(
        _ interactionIds: Set<String>, of integration: String, in database: any SQLDatabase, postgres: Bool
    ) async throws {
        for interaction in interactionIds.sorted() {
            if postgres {
                try await database.raw(
                    "SELECT pg_advisory_xact_lock(hashtext(\(bind: "call:" + integration + "\u{1F}" + interaction)))"
                ).run()
            }
            let events = try await database.raw(
                """
                SELECT e.integration, e.event,
                    (SELECT MIN(d.agent_id) FROM call_deliveries d
                     WHERE d.integration = e.integration AND d.event_id = e.event_id) AS workstation
                FROM call_events e WHERE e.integration = \(bind: integration) AND e.interaction_id = \(bind: interaction)
                """
            ).all().map { row in
                // A workstation's own events were delivered nowhere: they are that workstation's.
                let own = Integrations.workstationId(of: integration)
                return ProjectedEvent(
                    integration: try row.decode(column: "integration", as: String.self),
                    event: try CallEvents.stored(row),
                    workstation: try row.decodeNil(column: "workstation")
                        ? own : try row.decode(column: "workstation", as: String.self))
            }
            let record = CallProjection.fold(interactionId: interaction, events: events)
            // One upsert for the call, one delete and one multi-row insert for its legs: statements
            // are what a post costs on SQLite (each hops to its thread).
            try await database.raw(
                """
                INSERT INTO calls (interaction_id, integration, state, started_at, ended_at, direction, ani, dnis, queue,
                    record, updated_at, duration_ms, search_text)
                VALUES (\(bind: interaction), \(bind: record.integration), \(bind: record.state), \(bind: record.startedAt),
                    \(bind: record.endedAt), \(bind: record.direction?.rawValue), \(bind: record.ani), \(bind: record.dnis),
                    \(bind: record.queue), \(bind: String(decoding: try StrictJSON.encode(record), as: UTF8.self)),
                    \(bind: Timestamp.now()), \(bind: Self.durationMs(record)), \(bind: Self.searchText(record)))
                ON CONFLICT (integration, interaction_id) DO UPDATE SET state = excluded.state,
                    started_at = excluded.started_at, ended_at = excluded.ended_at, direction = excluded.direction,
                    ani = excluded.ani, dnis = excluded.dnis, queue = excluded.queue, record = excluded.record,
                    updated_at = excluded.updated_at, duration_ms = excluded.duration_ms, search_text = excluded.search_text
                """
            ).run()
            try await database.raw(
                "DELETE FROM call_legs WHERE integration = \(bind: integration) AND interaction_id = \(bind: interaction)"
            ).run()
            guard !record.legs.isEmpty else { continue }
            var insert = database.insert(into: "call_legs").columns(
                "integration", "interaction_id", "leg_id", "workstation", "agent", "state", "started_at", "ended_at")
            for leg in record.legs {
                insert = insert.values(
                    integration, interaction, leg.legId, leg.workstation, leg.agent, leg.state, leg.startedAt,
                    leg.endedAt)
            }
            try await insert.run()
        }
    }

    /// The call as stored, inside a transaction (adapters judge snapshots against it).
    static func stored(integration: String, interaction: String, in database: any SQLDatabase) async throws
        -> CallRecord?
    {
        try await database.raw(
            "SELECT record FROM calls WHERE integration = \(bind: integration) AND interaction_id = \(bind: interaction)"
        ).first().map(Self.record(row:))
    }

    public struct Query: Sendable {
        /// Start-time bounds, RFC 3339 in any zone (inclusive from, exclusive to).
        public var from: String?
        public var to: String?
        public var state: String?
        /// Calls with a leg at this workstation (enrolled agent id) or of this phone-system agent.
        public var workstation: String?
        public var agent: String?
        /// Calls with a leg at a workstation enrolled at or under this node path (a team, a site).
        public var nodePath: String?
        /// Search terms (`SearchTerm`): ANI, DNIS, queue and direction as text, duration in seconds.
        public var ani: String?
        public var dnis: String?
        public var queue: String?
        public var direction: String?
        public var duration: String?
        /// Calls with (true) or without (false) screen segments, or voice recordings.
        public var hasScreen: Bool?
        public var hasVoice: Bool?
        /// Calls with (true) or without (false) notes.
        public var hasNotes: Bool?
        /// Categories as a text term (`complaint`, `a,b`, `!training`): calls filed under any of them, or none.
        public var category: String?
        /// The latest QA score (0–100) as a number term (`>80`, `50..70`, `!100`); calls never scored never match.
        public var score: String?
        /// Words found in the call's notes, evaluation comments, custom field values, numbers, queue,
        /// agents or interaction id (case-blind for ASCII); every word must be found.
        public var text: String?
        public var limit = 50
        /// Calls to skip, for the pages after the first.
        public var offset = 0
        /// Only the calls this user may see (nil: every call, for the CLI and the collector itself).
        public var access: Access?

        public init(
            from: String? = nil, to: String? = nil, state: String? = nil, workstation: String? = nil,
            agent: String? = nil, limit: Int = 50, access: Access? = nil
        ) {
            self.access = access
            self.from = from
            self.to = to
            self.state = state
            self.workstation = workstation
            self.agent = agent
            self.limit = limit
        }
    }

    /// The furthest a page may start: deeper than this, a narrower search serves better than paging.
    public static let deepestOffset = 100_000

    /// One page of `list`, and whether more calls match: one more row than asked says so, without
    /// counting every match.
    public func page(_ query: Query) async throws -> (items: [CallRecord], more: Bool) {
        guard (1...1000).contains(query.limit) else {
            throw CollectorError(.invalid, "limit must be between 1 and 1000, found \(query.limit)")
        }
        var probe = query
        probe.limit += 1
        var items = try await list(probe, limitChecked: true)
        let more = items.count > query.limit
        if more { items.removeLast() }
        return (items, more)
    }

    /// Calls matching every filter, newest first, each with its legs' segment counts.
    public func list(_ query: Query) async throws -> [CallRecord] {
        try await list(query, limitChecked: false)
    }

    private func list(_ query: Query, limitChecked: Bool) async throws -> [CallRecord] {
        guard limitChecked || (1...1000).contains(query.limit) else {
            throw CollectorError(.invalid, "limit must be between 1 and 1000, found \(query.limit)")
        }
        guard (0...Self.deepestOffset).contains(query.offset) else {
            throw CollectorError(.invalid, "offset must be between 0 and \(Self.deepestOffset), found \(query.offset); narrow the search instead")
        }
        if let state = query.state, !["active", "ended"].contains(state) {
            throw CollectorError(.invalid, "state is active or ended, found \"\(OutsideText.bounded(state, limit: 40))\"")
        }
        var conditions: [SQLQueryString] = []
        if let from = try Self.utc(query.from, "from") { conditions.append("c.started_at >= \(bind: from)") }
        if let to = try Self.utc(query.to, "to") { conditions.append("c.started_at < \(bind: to)") }
        if let state = query.state { conditions.append("c.state = \(bind: state)") }
        if let reach = query.access?.callCondition() { conditions.append(reach) }
        for (given, column, field) in [
            (query.ani, "c.ani", "ani"), (query.dnis, "c.dnis", "dnis"), (query.queue, "c.queue", "queue"),
            (query.direction, "c.direction", "direction"),
        ] {
            if let given { conditions.append(try SearchTerm.text(given, column: column, field: field)) }
        }
        if let duration = query.duration {
            conditions.append(try SearchTerm.number(duration, column: "c.duration_ms", field: "duration", scale: 1000))
        }
        if let hasScreen = query.hasScreen {
            let exists: SQLQueryString = "EXISTS (SELECT 1 FROM segment_calls s WHERE s.call_id = c.interaction_id)"
            conditions.append(hasScreen ? exists : "NOT " + exists)
        }
        if let hasVoice = query.hasVoice {
            // One set of calls with voice, hashed once, rather than two subqueries per call (PostgreSQL
            // took 0.3 s for the newest 100 with voice of 100 000 calls that way).
            let withVoice: SQLQueryString = """
                (c.integration, c.interaction_id) IN (SELECT v.integration, v.interaction_id FROM voice_recordings v
                    UNION SELECT k.integration, k.interaction_id FROM call_links k WHERE k.kind = 'voice')
                """
            // Without voice: NOT EXISTS, which PostgreSQL runs as an anti-join (NOT IN it cannot).
            let none: SQLQueryString = """
                (NOT EXISTS (SELECT 1 FROM voice_recordings v WHERE v.integration = c.integration AND v.interaction_id = c.interaction_id)
                AND NOT EXISTS (SELECT 1 FROM call_links k WHERE k.integration = c.integration AND k.interaction_id = c.interaction_id
                    AND k.kind = 'voice'))
                """
            conditions.append(hasVoice ? withVoice : none)
        }
        conditions += try Self.reviewConditions(query, postgres: catalog.isPostgres)
        if let workstation = query.workstation {
            conditions.append(
                "EXISTS (SELECT 1 FROM call_legs l WHERE l.integration = c.integration AND l.interaction_id = c.interaction_id AND l.workstation = \(bind: workstation))"
            )
        }
        if let nodePath = query.nodePath {
            guard nodePath.hasPrefix("/"), nodePath.utf8.count <= 512 else {
                throw CollectorError(
                    .invalid, "node_path is a path like /emea/paris (its calls and those below it), found \"\(OutsideText.bounded(nodePath, limit: 60))\"")
            }
            let path = nodePath.count > 1 && nodePath.hasSuffix("/") ? String(nodePath.dropLast()) : nodePath
            // As scopes do: /emea/paris covers /emea/paris/sales, not /emea/parisian (substr, not LIKE).
            let under: SQLQueryString =
                path == "/"
                ? "1 = 1"
                : "(a.node_path = \(bind: path) OR substr(a.node_path, 1, CAST(\(bind: path.utf8.count + 1) AS INTEGER)) = \(bind: path + "/"))"
            conditions.append(
                "EXISTS (SELECT 1 FROM call_legs l JOIN agents a ON a.id = l.workstation WHERE l.integration = c.integration AND l.interaction_id = c.interaction_id AND "
                    + under + ")")
        }
        if let agent = query.agent {
            conditions.append(
                "EXISTS (SELECT 1 FROM call_legs l WHERE l.integration = c.integration AND l.interaction_id = c.interaction_id AND l.agent = \(bind: agent))"
            )
        }
        var statement: SQLQueryString = "SELECT c.record FROM calls c"
        if !conditions.isEmpty { statement = statement + " WHERE " + conditions.joined(separator: " AND ") }
        // Calls with no start yet (their end came first) last on both databases (PostgreSQL sorts NULL first).
        statement =
            statement
            + " ORDER BY (c.started_at IS NULL), c.started_at DESC, c.interaction_id, c.integration LIMIT \(bind: query.limit) OFFSET \(bind: query.offset)"
        let records = try await catalog.sql.raw(statement).all().map(Self.record(row:))
        return try await withReviewSummary(try await withSegmentCounts(records))
    }

    /// A bound given in any zone as the catalog's UTC text, which sorts by instant.
    static func utc(_ given: String?, _ name: String) throws -> String? {
        guard let given else { return nil }
        guard let date = CallEvent.parseTime(given) else {
            throw CollectorError(
                .invalid,
                "\(name) must be an RFC 3339 time with its zone, like 2026-12-01T09:00:00Z, found \"\(OutsideText.bounded(given, limit: 40))\"")
        }
        return Timestamp.string(date)
    }

    /// One call as the catalog knows it, or nil. An id that two integrations both use needs
    /// `integration` to say which (409 otherwise, naming them).
    public func call(_ interactionId: String, integration: String? = nil) async throws -> CallRecord? {
        var statement: SQLQueryString = "SELECT record, integration FROM calls WHERE interaction_id = \(bind: interactionId)"
        if let integration { statement = statement + " AND integration = \(bind: integration)" }
        let rows = try await catalog.sql.raw(statement + " ORDER BY integration LIMIT 10").all()
        guard rows.count <= 1 else {
            let names = try rows.map { try $0.decode(column: "integration", as: String.self) }
            throw CollectorError(
                .conflict,
                "interaction \(OutsideText.bounded(interactionId, limit: 80)) exists in integrations \(names.joined(separator: ", ")); add ?integration= to say which")
        }
        guard let row = rows.first else { return nil }
        return try await withSegmentCounts([try Self.record(row: row)]).first
    }

    /// A call with its events and its segments: `GET /api/v1/calls/{interactionId}`.
    public struct Detail: Codable, Sendable, Equatable {
        public var call: CallRecord
        /// The first `detailEvents` by when they happened; `eventsTruncated` when there are more.
        public var events: [CallEvents.Stored]
        public var eventsTruncated: Bool
        public var segments: [SegmentRecord]

        enum CodingKeys: String, CodingKey {
            case call, events, segments
            case eventsTruncated = "events_truncated"
        }
    }

    public func detail(
        _ interactionId: String, integration: String? = nil, events: CallEvents, segments: Segments
    ) async throws -> Detail? {
        guard let call = try await call(interactionId, integration: integration) else { return nil }
        let stored = try await events.events(interactionId: interactionId, limit: Self.detailEvents + 1).filter {
            $0.integration == call.integration
        }
        return Detail(
            call: call, events: Array(stored.prefix(Self.detailEvents)), eventsTruncated: stored.count > Self.detailEvents,
            segments: try await segments.list(.init(callId: interactionId, limit: 10_000)))
    }

    /// Events listed with a call; `admin call events` reads them all.
    static let detailEvents = 1000

    /// What a workstation needs to resynchronise after it was away: the cursor to read deliveries after
    /// (taken first, so nothing delivered after it can be missed), the legs still active at it (the
    /// most recently started first; `truncated` when there were more than `resyncLegs`, and then the
    /// agent closes nothing it does not see), and their events (their pauses among them), oldest
    /// first. A pause of a call that is over is not replayed: it would mute the next call. Its agent replays the events (repeats are recognised by id), closes the legs
    /// it thought active that are not listed, and goes on from the cursor. A leg that started more than
    /// `staleAfter` ago (its end was lost) no longer counts as active.
    public struct Resync: Codable, Sendable, Equatable {
        public var cursor: Int64
        public var activeLegs: [ActiveLeg]
        public var truncated: Bool
        public var events: [CallEvents.Delivery]

        public struct ActiveLeg: Codable, Sendable, Equatable {
            public var integration: String
            public var interactionId: String
            public var legId: String
            public var startedAt: String?

            enum CodingKeys: String, CodingKey {
                case integration
                case interactionId = "interaction_id"
                case legId = "leg_id"
                case startedAt = "started_at"
            }
        }

        enum CodingKeys: String, CodingKey {
            case cursor, events, truncated
            case activeLegs = "active_legs"
        }
    }

    static let resyncLegs = 100
    static let staleAfter: TimeInterval = 12 * 3600

    /// The workstation's own softphone calls are not among them: the agent knows those itself, and a
    /// replay would start recording a call its softphone may have ended while the agent was down.
    public func resync(workstation: String, now: Date = Date()) async throws -> Resync {
        let fresh = Timestamp.string(now.addingTimeInterval(-Self.staleAfter))
        return try await catalog.transaction { database in
            let cursor =
                try await database.raw(
                    "SELECT COALESCE(MAX(id), 0) AS cursor FROM call_deliveries WHERE agent_id = \(bind: workstation)"
                ).first()?.decode(column: "cursor", as: Int64.self) ?? 0
            let rows = try await database.raw(
                """
                SELECT integration, interaction_id, leg_id, started_at FROM call_legs
                WHERE workstation = \(bind: workstation) AND state <> 'ended' AND started_at >= \(bind: fresh)
                AND integration <> \(bind: Integrations.workstation(workstation).name)
                ORDER BY started_at DESC, interaction_id, leg_id LIMIT \(bind: Self.resyncLegs + 1)
                """
            ).all()
            let legs = try rows.prefix(Self.resyncLegs).map {
                Resync.ActiveLeg(
                    integration: try $0.decode(column: "integration", as: String.self),
                    interactionId: try $0.decode(column: "interaction_id", as: String.self),
                    legId: try $0.decode(column: "leg_id", as: String.self),
                    startedAt: try $0.decode(column: "started_at", as: String?.self))
            }
            let calls = Set(legs.map { "\($0.integration)\u{1F}\($0.interactionId)" })
            var found: [any SQLRow] = []
            let interactions = Array(Set(legs.map(\.interactionId)))
            if !interactions.isEmpty {
                found += try await database.raw(
                    """
                    SELECT d.id, d.integration, e.event, e.interaction_id FROM call_deliveries d
                    JOIN call_events e ON e.integration = d.integration AND e.event_id = d.event_id
                    WHERE d.agent_id = \(bind: workstation) AND d.id <= \(bind: cursor)
                    AND e.interaction_id IN (\(binds: interactions)) ORDER BY d.id LIMIT 5000
                    """
                ).all().filter {
                    calls.contains(
                        "\(try $0.decode(column: "integration", as: String.self))\u{1F}\(try $0.decode(column: "interaction_id", as: String.self))"
                    )
                }
            }
            var seen = Set<Int64>()
            var deliveries: [CallEvents.Delivery] = []
            for row in found {
                let delivery = try CallEvents.delivery(row: row)
                if seen.insert(delivery.cursor).inserted { deliveries.append(delivery) }
            }
            deliveries.sort { $0.event.occurred < $1.event.occurred }
            return Resync(
                cursor: cursor, activeLegs: legs, truncated: rows.count > Self.resyncLegs, events: deliveries)
        }
    }

    /// From the first leg's start to the call's end, once it has ended.
    static func durationMs(_ record: CallRecord) -> Int64? {
        guard let start = record.startedAt.flatMap(Timestamp.date), let end = record.endedAt.flatMap(Timestamp.date) else {
            return nil
        }
        return max(0, Int64((end.timeIntervalSince(start) * 1000).rounded()))
    }

    /// Calls of workstations' own softphones (`workstation:` integrations) other than `excluding`'s,
    /// whose remote party is `party` and whose `column` (`started_at` or `ended_at`) lies in the window:
    /// the candidates for the other end of a softphone transfer.
    func workstationCalls(
        party: String, excluding integration: String, column: String, from: Date, to: Date, limit: Int = 50
    ) async throws -> [CallRecord] {
        precondition(column == "started_at" || column == "ended_at", "a column of calls")
        let rows = try await catalog.sql.raw(
            """
            SELECT record, integration FROM calls WHERE integration LIKE \(bind: Integrations.workstationPrefix + "%")
            AND integration <> \(bind: integration) AND (ani = \(bind: party) OR dnis = \(bind: party))
            AND \(unsafeRaw: column) >= \(bind: Timestamp.string(from)) AND \(unsafeRaw: column) <= \(bind: Timestamp.string(to))
            ORDER BY \(unsafeRaw: column), interaction_id LIMIT \(bind: limit)
            """
        ).all()
        return try rows.map(Self.record)
    }

    private static func record(row: any SQLRow) throws -> CallRecord {
        try JSONDecoder().decode(CallRecord.self, from: Data(try row.decode(column: "record", as: String.self).utf8))
    }

    /// Fills in how many segments each leg (and each call) has.
    private func withSegmentCounts(_ records: [CallRecord]) async throws -> [CallRecord] {
        guard !records.isEmpty else { return records }
        let ids = records.map(\.interactionId)
        var perLeg: [String: [String: Int]] = [:]
        for row in try await catalog.sql.raw(
            """
            SELECT interaction_id, leg_id, COUNT(*) AS n FROM segment_legs WHERE interaction_id IN (\(binds: ids))
            GROUP BY interaction_id, leg_id
            """
        ).all() {
            perLeg[try row.decode(column: "interaction_id", as: String.self), default: [:]][
                try row.decode(column: "leg_id", as: String.self)] = try row.decode(column: "n", as: Int.self)
        }
        var perCall: [String: Int] = [:]
        for row in try await catalog.sql.raw(
            "SELECT call_id, COUNT(*) AS n FROM segment_calls WHERE call_id IN (\(binds: ids)) GROUP BY call_id"
        ).all() {
            perCall[try row.decode(column: "call_id", as: String.self)] = try row.decode(column: "n", as: Int.self)
        }
        return records.map { record in
            var record = record
            record.segments = perCall[record.interactionId] ?? 0
            for index in record.legs.indices {
                record.legs[index].segments = perLeg[record.interactionId]?[record.legs[index].legId] ?? 0
            }
            return record
        }
    }

    /// Each call's latest QA score and its notes, for the list.
    private func withReviewSummary(_ records: [CallRecord]) async throws -> [CallRecord] {
        guard !records.isEmpty else { return records }
        // By the whole key (integration, interaction id), so both lookups use their index.
        let keys = records.map { "(\(bind: $0.integration), \(bind: $0.interactionId))" as SQLQueryString }
            .joined(separator: ", ")
        // One query for both: each listed call's score, and its notes counted through their index.
        var summary: [String: (score: Int?, notes: Int)] = [:]
        for row in try await catalog.sql.raw(
            """
            SELECT c.integration, c.interaction_id, c.qa_score,
                (SELECT COUNT(*) FROM call_notes x WHERE x.integration = c.integration AND x.interaction_id = c.interaction_id
                    AND x.deleted_at IS NULL) AS notes
            FROM calls c WHERE (c.integration, c.interaction_id) IN (
            """ + keys + ")"
        ).all() {
            summary["\(try row.decode(column: "integration", as: String.self))\u{0}\(try row.decode(column: "interaction_id", as: String.self))"] =
                (try row.decode(column: "qa_score", as: Int?.self), try row.decode(column: "notes", as: Int.self))
        }
        return records.map { record in
            var record = record
            let key = "\(record.integration)\u{0}\(record.interactionId)"
            record.qaScore = summary[key]?.score
            record.notes = summary[key]?.notes ?? 0
            return record
        }
    }
}
