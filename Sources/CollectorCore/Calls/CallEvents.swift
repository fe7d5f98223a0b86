import Foundation
import RecorderCore
import SQLKit

/// The call event log: every accepted event once per (integration, event id), in our contract with our
/// receive time, beside the request body exactly as it arrived. A repeat (a feed delivering twice, a
/// retry after a lost answer) is counted and changes nothing.
public struct CallEvents: Sendable {
    let catalog: Catalog

    /// What a post did.
    public struct Accepted: Codable, Sendable, Equatable {
        public var accepted: Int
        public var duplicates: Int
        /// Payloads of a phone system's own kind that carry nothing for recording (a contact queued).
        public var ignored: Int = 0
        /// Accepted events whose agent identity sits at no workstation (kept, delivered to nobody):
        /// at most 20 of those identities, for the admin to map.
        public var unrouted: Int = 0
        public var unmappedAgents: [String] = []
        /// The workstations that got events (not sent to the phone system: its waiting agents are woken).
        public var deliveredTo: [String] = []

        enum CodingKeys: String, CodingKey {
            case accepted, duplicates, ignored, unrouted
            case unmappedAgents = "unmapped_agents"
        }
    }

    /// One stored event.
    public struct Stored: Codable, Sendable, Equatable {
        public var integration: String
        public var event: CallEvent
    }

    /// Reads one event or `{"events": [...]}` from `body` (strictly: a bad event refuses the whole
    /// post, naming its index and field, and stores nothing), or, for an integration of a phone
    /// system's own kind, its payload through the adapter (`Adapters/`); stamps each event with
    /// `receivedAt`, and stores the new ones with the raw body in one transaction.
    ///
    /// `routed`: false for events a workstation reported itself (`Integrations.workstation`): they
    /// are catalogued with that workstation's legs and delivered to nobody.
    public func accept(
        _ body: Data, from integration: Integrations.Integration, source: String, receivedAt: Date = Date(),
        routed: Bool = true
    ) async throws -> Accepted {
        var contract: [CallEvent]?
        var tree: JSONValue?
        var ignored = 0
        do {
            switch integration.kind {
            case .webhook:
                if (try? StrictJSON.decode(BatchProbe.self, from: body, unknownKeys: .ignore))?.isBatch == true {
                    contract = try StrictJSON.decode(CallEventBatch.self, from: body).events
                } else {
                    contract = [try StrictJSON.decode(CallEvent.self, from: body)]
                }
            case .amazonConnect:
                (contract, ignored) = try AmazonConnectAdapter.events(try StrictJSON.tree(body))
            case .genesysCloud:
                tree = try StrictJSON.tree(body)
            }
        } catch let invalid as StrictJSON.Invalid {
            throw CollectorError(.invalid, invalid.message)
        }
        let received = Timestamp.string(receivedAt)
        let bodyText = String(decoding: body, as: UTF8.self)
        let postgres = catalog.isPostgres
        return try await catalog.transaction { [contract, tree, ignored] database in
            var events: [CallEvent]
            var ignored = ignored
            if postgres {
                // Posts about one call take turns from here to the commit, before anything is read or
                // written: two deliveries of one event (feeds are at least once) cannot both pass the
                // repeat check, a snapshot is judged against the state the previous one left, and the
                // delivery lock below is only ever taken after these (no lock-order deadlock).
                let calls = contract.map { $0.map { $0.interactionId ?? "event:" + $0.eventId } }
                    ?? [tree?["eventBody"]?["id"]?.string ?? ""]
                for key in Set(calls).sorted() {
                    try await database.raw(
                        "SELECT pg_advisory_xact_lock(hashtext(\(bind: "call:" + integration.name + "\u{1F}" + key)))"
                    ).run()
                }
            }
            if let contract {
                events = contract
            } else {
                // Genesys sends snapshots: what changed is judged against the call as the catalog has it.
                (events, ignored) = try await GenesysCloudAdapter.events(tree ?? .null, receivedAt: received) {
                    try await CallCatalog.stored(integration: integration.name, interaction: $0, in: database)
                }
            }
            for index in events.indices { events[index].receivedAt = received }
            var fresh: [CallEvent] = []
            for event in events {
                let exists = try await database.raw(
                    "SELECT 1 AS found FROM call_events WHERE integration = \(bind: integration.name) AND event_id = \(bind: event.eventId)"
                ).first() != nil
                // Within one batch too: the first of two events with one id is the one kept.
                if !exists, !fresh.contains(where: { $0.eventId == event.eventId }) { fresh.append(event) }
            }
            // A post of nothing but repeats stores nothing, not even its body: retries cannot pile up.
            guard !fresh.isEmpty else { return Accepted(accepted: 0, duplicates: events.count, ignored: ignored) }
            // Every post folds its calls again from all their events: a feed in a loop must not make that
            // (and every other post, behind it on SQLite) slower without bound.
            let perInteraction = Dictionary(grouping: fresh.compactMap(\.interactionId), by: { $0 }).mapValues(\.count)
            for (interaction, count) in perInteraction {
                let stored =
                    try await database.raw(
                        """
                        SELECT COUNT(*) AS n FROM call_events WHERE integration = \(bind: integration.name)
                        AND interaction_id = \(bind: interaction)
                        """
                    ).first()?.decode(column: "n", as: Int.self) ?? 0
                guard stored + count <= Self.maxEventsPerInteraction else {
                    throw CollectorError(
                        .conflict,
                        "interaction \(OutsideText.bounded(interaction, limit: 80)) has \(stored) events; at most \(Self.maxEventsPerInteraction) are kept for one call (a feed repeating itself under new ids?): nothing of this post was stored"
                    )
                }
            }
            let request = try await database.raw(
                """
                INSERT INTO cti_requests (integration, received_at, source, body)
                VALUES (\(bind: integration.name), \(bind: received), \(bind: OutsideText.bounded(source)), \(bind: bodyText))
                RETURNING id
                """
            ).first()?.decode(column: "id", as: Int64.self) ?? 0
            var accepted = 0
            var unrouted = 0
            var deliveredTo: [String] = []
            var unmapped: [String] = []
            // Legs routed earlier in this post, before the call catalog knows them.
            var holders: [String: String] = [:]
            for event in fresh {
                try await database.raw(
                    """
                    INSERT INTO call_events (integration, event_id, type, occurred_at, received_at, interaction_id, leg_id,
                        agent_id, event, request_id)
                    VALUES (\(bind: integration.name), \(bind: event.eventId), \(bind: event.type.rawValue),
                        \(bind: Timestamp.string(event.occurred)), \(bind: received), \(bind: event.interactionId), \(bind: event.legId),
                        \(bind: event.agentId), \(bind: String(decoding: try StrictJSON.encode(event), as: UTF8.self)),
                        \(bind: request))
                    """
                ).run()
                accepted += 1
                guard routed else { continue }
                // Where it goes: the workstation that has the leg (a person moved to another desk mid-call
                // leaves the call's remaining events on the desk recording it), else the one the event's
                // agent identity sits at now. A PCI pause naming only its interaction goes to every
                // workstation with a leg of it.
                var workstations = try await Self.holders(of: event, integration: integration.name, batch: holders, in: database)
                if workstations.isEmpty, let external = event.agentId,
                    let mapped = try await AgentIdentities.workstation(
                        integration: integration.name, externalId: external, in: database)
                {
                    workstations = [mapped]
                }
                if workstations.isEmpty {
                    if let external = event.agentId {
                        unrouted += 1
                        if unmapped.count < 20, !unmapped.contains(external) { unmapped.append(external) }
                    }
                    continue
                }
                for workstation in workstations {
                    if deliveredTo.isEmpty, postgres {
                        // Delivery ids must become visible in the order they are numbered, or an agent
                        // reading after id 11 while 10 is still uncommitted would never see 10: inserts
                        // of deliveries take turns, from here to the commit.
                        try await database.raw("SELECT pg_advisory_xact_lock(7274172)").run()
                    }
                    if !deliveredTo.contains(workstation) { deliveredTo.append(workstation) }
                    try await database.raw(
                        """
                        INSERT INTO call_deliveries (agent_id, integration, event_id)
                        VALUES (\(bind: workstation), \(bind: integration.name), \(bind: event.eventId))
                        """
                    ).run()
                }
                if let interaction = event.interactionId, workstations.count == 1 {
                    holders[Self.legKey(interaction, event.legId ?? interaction)] = workstations[0]
                    // A consult's leg is this agent's too.
                    if event.type == .consultStarted, let related = event.relatedLegId {
                        holders[Self.legKey(interaction, related)] = workstations[0]
                    }
                }
            }
            let touched = Set(fresh.compactMap(\.interactionId))
            try await CallCatalog.reproject(touched, of: integration.name, in: database, postgres: postgres)
            try await CorrelationJob.enqueue(touched.sorted().map { (integration.name, $0) }, in: database)
            return Accepted(
                accepted: accepted, duplicates: events.count - accepted, ignored: ignored, unrouted: unrouted,
                unmappedAgents: unmapped, deliveredTo: deliveredTo)
        }
    }

    /// Far above any real call (a long call with many holds and transfers has a few hundred).
    static let maxEventsPerInteraction = 2000

    static func legKey(_ interaction: String, _ leg: String) -> String { "\(interaction)\u{1F}\(leg)" }

    /// The workstations that have the event's leg (one), or for an event naming only its interaction,
    /// those with an active leg of it.
    static func holders(
        of event: CallEvent, integration: String, batch: [String: String], in database: any SQLDatabase
    ) async throws -> [String] {
        guard let interaction = event.interactionId else { return [] }
        let leg = event.legId ?? interaction
        if let known = batch[legKey(interaction, leg)] { return [known] }
        if event.legId == nil, event.type == .recordingPaused || event.type == .recordingResumed {
            return try await database.raw(
                """
                SELECT DISTINCT workstation FROM call_legs WHERE integration = \(bind: integration)
                AND interaction_id = \(bind: interaction) AND state <> 'ended' AND workstation IS NOT NULL
                ORDER BY workstation LIMIT 20
                """
            ).all().map { try $0.decode(column: "workstation", as: String.self) }
        }
        return try await database.raw(
            """
            SELECT workstation FROM call_legs WHERE integration = \(bind: integration)
            AND interaction_id = \(bind: interaction) AND leg_id = \(bind: leg) AND workstation IS NOT NULL
            """
        ).all().map { try $0.decode(column: "workstation", as: String.self) }
    }

    /// One event delivered to a workstation, with the cursor to ask after.
    public struct Delivery: Codable, Sendable, Equatable {
        public var cursor: Int64
        /// Event ids are unique per integration only: the agent tells repeats apart by both.
        public var integration: String
        public var event: CallEvent
    }

    /// The events routed to workstation `agentId` after `cursor` (0: from the start), oldest first.
    public func deliveries(to agentId: String, after cursor: Int64, limit: Int = 500) async throws -> [Delivery] {
        try await catalog.sql.raw(
            """
            SELECT d.id, d.integration, e.event FROM call_deliveries d
            JOIN call_events e ON e.integration = d.integration AND e.event_id = d.event_id
            WHERE d.agent_id = \(bind: agentId) AND d.id > \(bind: cursor) ORDER BY d.id LIMIT \(bind: max(1, min(limit, 500)))
            """
        ).all().map(Self.delivery(row:))
    }

    /// An event as the catalog stores it: our own encoding of what was checked on the way in, read with
    /// Foundation's decoder (the strict one builds a tree first; re-reading a call's events is hot).
    static func stored(_ row: any SQLRow) throws -> CallEvent {
        try JSONDecoder().decode(CallEvent.self, from: Data(try row.decode(column: "event", as: String.self).utf8))
    }

    /// A row of `id, integration, event` from call_deliveries joined with call_events.
    static func delivery(row: any SQLRow) throws -> Delivery {
        Delivery(
            cursor: try row.decode(column: "id", as: Int64.self),
            integration: try row.decode(column: "integration", as: String.self),
            event: try CallEvents.stored(row))
    }

    /// Deliveries numbered after `id`, oldest first, with their workstation: what `DeliveryWatch`
    /// wakes agents for when another collector accepted the events.
    public func deliveredAgents(after id: Int64, limit: Int = 1000) async throws -> [(id: Int64, agent: String)] {
        try await catalog.sql.raw(
            "SELECT id, agent_id FROM call_deliveries WHERE id > \(bind: id) ORDER BY id LIMIT \(bind: limit)"
        ).all().map { (try $0.decode(column: "id", as: Int64.self), try $0.decode(column: "agent_id", as: String.self)) }
    }

    /// The last delivery's number (0 before any).
    public func lastDelivery() async throws -> Int64 {
        try await catalog.sql.raw("SELECT COALESCE(MAX(id), 0) AS last FROM call_deliveries").first()?.decode(
            column: "last", as: Int64.self) ?? 0
    }

    /// The events of one interaction, by when they happened (the column holds UTC, so times given in
    /// other zones sort by their instant).
    public func events(interactionId: String, limit: Int = 1000) async throws -> [Stored] {
        try await catalog.sql.raw(
            """
            SELECT integration, event FROM call_events WHERE interaction_id = \(bind: interactionId)
            ORDER BY occurred_at, received_at LIMIT \(bind: max(1, min(limit, 10_000)))
            """
        ).all().map { row in
            Stored(
                integration: try row.decode(column: "integration", as: String.self),
                event: try CallEvents.stored(row))
        }
    }

    /// The raw bodies that brought an interaction's events (for audit), oldest first.
    public func rawBodies(interactionId: String) async throws -> [String] {
        try await catalog.sql.raw(
            """
            SELECT DISTINCT r.id, r.body FROM cti_requests r JOIN call_events e ON e.request_id = r.id
            WHERE e.interaction_id = \(bind: interactionId) ORDER BY r.id
            """
        ).all().map { try $0.decode(column: "body", as: String.self) }
    }

    /// Tells a batch from a single event by its `events` key (present, even as null: then the batch's
    /// own decoding says what is wrong with it).
    private struct BatchProbe: Decodable {
        var isBatch: Bool

        enum CodingKeys: String, CodingKey { case events }

        init(from decoder: any Decoder) throws {
            isBatch = try decoder.container(keyedBy: CodingKeys.self).contains(.events)
        }
    }
}
