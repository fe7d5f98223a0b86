import CollectorCore
import Foundation
import Hummingbird
import RecorderCore

/// Call events in (`POST /api/v1/cti/events`, an integration's token) and the admin routes for
/// integrations and an interaction's event log.
struct CallAPI {
    let collector: Collector
    let guards: AuthenticationGuards
    let views = RecentAudit(action: "call.view")

    func register(on router: Router<CollectorContext>) {
        router.post("api/v1/cti/events") { request, context in
            let integration = try await authenticate(request, source: context.remoteAddress)
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: context.maxUploadSize)
            } catch {
                throw CollectorError(.tooLarge, "a call event post is at most \(context.maxUploadSize) bytes")
            }
            let accepted = try await collector.callEvents.accept(
                Data(buffer: body), from: integration, source: context.remoteAddress)
            collector.deliverySignals.signal(accepted.deliveredTo)
            return accepted
        }

        let admin = router.group("api/v1/admin").add(middleware: SessionAuthentication(collector: collector))
        admin.get("integrations") { _, _ in Items(items: try await collector.integrations.list()) }
        admin.post("integrations") { request, context in
            let input = try await request.decodeStrict(NewIntegration.self, context: context)
            let (integration, token) = try await collector.integrations.create(
                name: input.name, kind: input.kind ?? .webhook, workstationLogins: input.workstationLogins ?? false,
                by: context.actor)
            return EditedResponse(status: .created, response: CreatedIntegration(integration: integration, token: token))
        }
        admin.post("integrations/:name/revoke") { _, context in
            try await collector.integrations.revoke(try context.parameters.require("name"), by: context.actor)
            return HTTPResponse.Status.noContent
        }
        admin.get("agent-identities") { request, _ in
            let integration = request.uri.queryParameters["integration"].map(String.init)
            return Items(items: try await collector.agentIdentities.list(integration: integration))
        }
        admin.post("agent-identities") { request, context in
            let input = try await request.decodeStrict(IdentityInput.self, context: context)
            return try await collector.agentIdentities.set(
                integration: input.integration, externalId: input.externalId, agentId: input.agentId, by: context.actor)
        }
        // What reaches a workstation: the events routed to it after a cursor (the agent keeps the last
        // one), answered at once when there are some, else held open up to `wait` seconds (long poll).
        let agent = router.group("api/v1/agent").add(middleware: AgentAuthentication(agents: collector.agents))
        agent.get("call-events") { request, context in
            let after = try Self.wholeNumber(
                request, "after", default: 0, range: 0...Int64.max, meaning: "the cursor of the last event read")
            let wait = try Self.wholeNumber(request, "wait", default: 0, range: 0...Self.longestWait)
            let workstation = context.agent!.id
            let deadline = ContinuousClock.now + .seconds(wait)
            while true {
                let ticket = collector.deliverySignals.ticket
                let items = try await collector.callEvents.deliveries(to: workstation, after: after)
                let left = deadline - ContinuousClock.now
                if !items.isEmpty || left <= .zero || Task.isCancelled { return Items(items: items) }
                // A newer poll of this agent supersedes this one: it answers now, with nothing.
                if await collector.deliverySignals.wait(for: workstation, since: ticket, timeout: left) {
                    return Items(items: [CallEvents.Delivery]())
                }
            }
        }
        // What this workstation's own softphone saw (the agent's local events), for the call catalog.
        agent.post("call-events") { request, context in
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: context.maxUploadSize)
            } catch {
                throw CollectorError(.tooLarge, "a call event post is at most \(context.maxUploadSize) bytes")
            }
            return try await collector.callEvents.accept(
                Data(buffer: body), from: Integrations.workstation(context.agent!.id), source: context.remoteAddress,
                routed: false)
        }
        // A softphone's login at this workstation (hot-desking), where the integration allows it.
        agent.post("identities") { request, context in
            let input = try await request.decodeStrict(LoginInput.self, context: context)
            return try await collector.agentIdentities.logIn(
                integration: input.integration, externalId: input.externalId, at: context.agent!.id,
                source: context.remoteAddress)
        }
        // After a reconnect: the calls still active for this workstation and the cursor to go on from.
        agent.get("calls/active") { _, context in
            try await collector.calls.resync(workstation: context.agent!.id)
        }
        admin.get("calls/:interaction/events") { _, context in
            Items(items: try await collector.callEvents.events(interactionId: try Self.interaction(context)))
        }

        // The call catalog, for every role; each sees the calls in their reach (`Access`), others are 404.
        let calls = router.group("api/v1/calls").add(
            middleware: SessionAuthentication(collector: collector, roles: Set(Users.Role.allCases)))
        calls.get { request, context in
            let query = request.uri.queryParameters
            func text(_ name: String) -> String? { query[Substring(name)].map(String.init) }
            let limit = try Self.wholeNumber(request, "limit", default: 50, range: 1...1000)
            func flag(_ name: String) throws -> Bool? {
                guard let value = text(name) else { return nil }
                switch value.lowercased() {
                case "true", "yes", "1": return true
                case "false", "no", "0": return false
                default: throw CollectorError(.invalid, "\(name) is true or false, found \"\(OutsideText.bounded(value, limit: 20))\"")
                }
            }
            var search = CallCatalog.Query(
                from: text("from"), to: text("to"), state: text("state"), workstation: text("workstation"),
                agent: text("agent"), limit: Int(limit), access: context.access)
            (search.ani, search.dnis, search.queue, search.direction) = (text("ani"), text("dnis"), text("queue"), text("direction"))
            search.duration = text("duration")
            (search.hasScreen, search.hasVoice) = (try flag("has_screen"), try flag("has_voice"))
            search.hasNotes = try flag("has_notes")
            search.nodePath = text("node_path")
            (search.category, search.score, search.text) = (text("category"), text("score"), text("text"))
            search.offset = Int(try Self.wholeNumber(request, "offset", default: 0, range: 0...Int64(CallCatalog.deepestOffset)))
            let page = try await collector.calls.page(search)
            return CallPage(items: page.items, nextOffset: page.more ? search.offset + search.limit : nil)
        }
        // Every leg, voice recording and screen segment of the call on one clock (docs/TIMELINE.md).
        calls.get(":interaction/timeline") { request, context in
            let interaction = try Self.interaction(context)
            guard
                let timeline = try await Self.hidingOthers(
                    context, interaction,
                    {
                        try await collector.timeline(
                            interaction, integration: request.uri.queryParameters["integration"].map(String.init),
                            for: context.access)
                    })
            else {
                throw Self.noCall(interaction)
            }
            // A view of the call, by the web app's player or an API client alike (once per ten minutes).
            try await views.record(
                "call:\(timeline.integration)/\(interaction)", detail: "timeline", context: context, collector: collector)
            return timeline
        }
        calls.get(":interaction") { request, context in
            let interaction = try Self.interaction(context)
            guard
                var detail = try await Self.hidingOthers(
                    context, interaction,
                    {
                        try await collector.calls.detail(
                            interaction, integration: request.uri.queryParameters["integration"].map(String.init),
                            events: collector.callEvents, segments: collector.segments)
                    }),
                try await collector.reaches(context.access, call: detail.call)
            else {
                throw Self.noCall(interaction)
            }
            detail.segments = try await collector.inReach(detail.segments, for: context.access)
            try await views.record(
                "call:\(detail.call.integration)/\(interaction)", detail: "details", context: context, collector: collector)
            return detail
        }
    }

    /// An id two integrations share answers 409 naming them, to admins; to anyone else, whose reach
    /// may not include both, it is no call.
    static func hidingOthers<T>(_ context: CollectorContext, _ interaction: String, _ body: () async throws -> T?)
        async throws -> T?
    {
        do {
            return try await body()
        } catch let error as CollectorError where error.kind == .conflict && !context.access.isAdmin {
            throw noCall(interaction)
        }
    }

    /// The same answer whether the call does not exist or is out of the user's reach.
    static func noCall(_ interaction: String) -> CollectorError {
        CollectorError(.notFound, "no call \(OutsideText.bounded(interaction, limit: 80)) in the catalog")
    }

    /// The longest an agent's request for call events is held open, in seconds: below the agent's 30 s
    /// stall timeout and any proxy's usual 60 s idle timeout.
    static let longestWait: Int64 = 25

    /// Interaction ids may hold `/`, spaces or any letter: they arrive percent-encoded.
    static func interaction(_ context: CollectorContext) throws -> String {
        let raw = try context.parameters.require("interaction")
        guard let interaction = raw.removingPercentEncoding else {
            throw CollectorError(.invalid, "the interaction id in the path is not valid percent-encoding")
        }
        return interaction
    }

    static func wholeNumber(
        _ request: Request, _ name: String, default value: Int64, range: ClosedRange<Int64>, meaning: String? = nil
    ) throws -> Int64 {
        guard let text = request.uri.queryParameters[Substring(name)] else { return value }
        guard let number = Int64(text), range.contains(number) else {
            let bounds =
                range.upperBound == Int64.max
                ? "a whole number ≥ \(range.lowerBound)" : "a whole number from \(range.lowerBound) to \(range.upperBound)"
            throw CollectorError(
                .invalid,
                "\(name) must be \(meaning.map { "\($0) (\(bounds))" } ?? bounds), found \"\(OutsideText.bounded(String(text), limit: 40))\""
            )
        }
        return number
    }

    /// The integration whose token the request carries; failures are throttled and audited like logins.
    /// A valid token is honoured before the throttle is consulted: the phone system's feed must not stop
    /// because someone behind the same address (a NAT, a proxy) failed logins or sent bad tokens.
    /// Guessing gains nothing from that order: tokens carry 256 random bits.
    func authenticate(_ request: Request, source: String) async throws -> Integrations.Integration {
        let keys = AuthenticationGuards.keys(address: source)
        guard let token = BearerToken.presented(in: request.headers[.authorization]) else {
            try await guards.check(keys, what: "integration token")
            throw CollectorError(
                .unauthorized, "send the integration's token: Authorization: Bearer rci_… (recorder-collector admin integration add)")
        }
        if let integration = try await collector.integrations.integration(forToken: token) { return integration }
        try await guards.check(keys, what: "integration token")
        await guards.failed(keys, action: "integration.token_failed", target: "cti", source: source)
        throw CollectorError(.unauthorized, "this integration token is unknown or revoked")
    }
}

/// A page of search results; `next_offset` is there when more calls match.
struct CallPage: ResponseEncodable, Sendable {
    var items: [CallRecord]
    var nextOffset: Int?

    enum CodingKeys: String, CodingKey {
        case items
        case nextOffset = "next_offset"
    }
}

struct IdentityInput: Decodable {
    var integration: String
    var externalId: String
    var agentId: String

    enum CodingKeys: String, CodingKey {
        case integration
        case externalId = "external_id"
        case agentId = "agent_id"
    }
}

struct NewIntegration: Decodable {
    var name: String
    var kind: Integrations.Kind?
    var workstationLogins: Bool?

    enum CodingKeys: String, CodingKey {
        case name, kind
        case workstationLogins = "workstation_logins"
    }
}

struct LoginInput: Decodable {
    var integration: String
    var externalId: String

    enum CodingKeys: String, CodingKey {
        case integration
        case externalId = "external_id"
    }
}

struct CreatedIntegration: ResponseEncodable {
    var integration: Integrations.Integration
    /// Shown once.
    var token: String
}

extension CallEvents.Accepted: ResponseEncodable {}
extension CallRecord: ResponseEncodable {}
extension CallCatalog.Detail: ResponseEncodable {}
extension CallTimeline: ResponseEncodable {}
extension CallCatalog.Resync: ResponseEncodable {}
extension CallEvents.Stored: ResponseEncodable {}
extension Integrations.Integration: ResponseEncodable {}
extension AgentIdentities.Identity: ResponseEncodable {}
