import CollectorCore
import Foundation
import Hummingbird
import RecorderCore

/// Call events in (`POST /api/v1/cti/events`, an integration's token) and the admin routes for
/// integrations and an interaction's event log.
struct CallAPI {
    let collector: Collector
    let guards: AuthenticationGuards

    func register(on router: Router<CollectorContext>) {
        router.post("api/v1/cti/events") { request, context in
            let integration = try await authenticate(request, source: context.remoteAddress)
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: context.maxUploadSize)
            } catch {
                throw CollectorError(.tooLarge, "a call event post is at most \(context.maxUploadSize) bytes")
            }
            return try await collector.callEvents.accept(
                Data(buffer: body), from: integration, source: context.remoteAddress)
        }

        let admin = router.group("api/v1/admin").add(middleware: SessionAuthentication(users: collector.users))
        admin.get("integrations") { _, _ in Items(items: try await collector.integrations.list()) }
        admin.post("integrations") { request, context in
            let input = try await request.decodeStrict(NewIntegration.self, context: context)
            let (integration, token) = try await collector.integrations.create(
                name: input.name, kind: input.kind ?? .webhook, by: context.actor)
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
        // What reaches a workstation: the events routed to it after a cursor (the agent keeps the last one).
        let agent = router.group("api/v1/agent").add(middleware: AgentAuthentication(agents: collector.agents))
        agent.get("call-events") { request, context in
            var after: Int64 = 0
            if let text = request.uri.queryParameters["after"] {
                guard let value = Int64(text), value >= 0 else {
                    throw CollectorError(
                        .invalid, "after must be the cursor of the last event read (a whole number ≥ 0), found \"\(OutsideText.bounded(String(text), limit: 40))\"")
                }
                after = value
            }
            return Items(items: try await collector.callEvents.deliveries(to: context.agent!.id, after: after))
        }
        admin.get("calls/:interaction/events") { _, context in
            // Interaction ids may hold `/`, spaces or any letter: they arrive percent-encoded.
            let raw = try context.parameters.require("interaction")
            guard let interaction = raw.removingPercentEncoding else {
                throw CollectorError(.invalid, "the interaction id in the path is not valid percent-encoding")
            }
            return Items(items: try await collector.callEvents.events(interactionId: interaction))
        }
    }

    /// The integration whose token the request carries; failures are throttled and audited like logins.
    func authenticate(_ request: Request, source: String) async throws -> Integrations.Integration {
        let keys = AuthenticationGuards.keys(address: source)
        try await guards.check(keys, what: "integration token")
        guard let token = BearerToken.presented(in: request.headers[.authorization]) else {
            throw CollectorError(
                .unauthorized, "send the integration's token: Authorization: Bearer rci_… (recorder-collector admin integration add)")
        }
        guard let integration = try await collector.integrations.integration(forToken: token) else {
            await guards.failed(keys, action: "integration.token_failed", target: "cti", source: source)
            throw CollectorError(.unauthorized, "this integration token is unknown or revoked")
        }
        return integration
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
}

struct CreatedIntegration: ResponseEncodable {
    var integration: Integrations.Integration
    /// Shown once.
    var token: String
}

extension CallEvents.Accepted: ResponseEncodable {}
extension CallEvents.Stored: ResponseEncodable {}
extension Integrations.Integration: ResponseEncodable {}
extension AgentIdentities.Identity: ResponseEncodable {}
