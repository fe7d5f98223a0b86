import CollectorCore
import Foundation
import Hummingbird
import RecorderCore

/// The agents' side of the API: the collector's CA (public, for fingerprint pinning), enrolment with a
/// one-time code, and the agent's configuration (agent token). Admin routes for codes and agents live
/// here too, behind the session check.
struct AgentAPI {
    let collector: Collector
    let guards: AuthenticationGuards
    let publicURL: PublicURL
    let caPEM: String?

    func register(on router: Router<CollectorContext>) {
        router.get("api/v1/ca.pem") { _, _ in
            guard let caPEM else {
                throw CollectorError(.notFound, "this collector serves a configured certificate; trust its issuer instead")
            }
            var headers = HTTPFields()
            headers[.contentType] = "application/x-pem-file"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: caPEM)))
        }
        router.post("api/v1/agents/enrol") { request, context in
            let input = try await request.decodeStrict(EnrolmentRequest.self, context: context)
            // Codes are 80 bits, but guessing is still throttled per address and every miss audited.
            let keys = AuthenticationGuards.keys(address: context.remoteAddress)
            try await guards.check(keys, what: "enrolment")
            let token: String
            let agent: Agents.Agent
            do {
                (token, agent) = try await collector.agents.enrol(
                    code: input.code, agentId: input.agentId, hostname: input.hostname ?? "",
                    signingKey: input.signingKey, source: context.remoteAddress
                ) { nodePath in
                    // An agent that could not upload is not enrolled: its code stays valid.
                    try await collector.requireStorageAccess(agentId: input.agentId, nodePath: nodePath)
                }
            } catch let error as CollectorError where error.kind == .unauthorized {
                await guards.failed(
                    keys, action: "agent.enrol_failed", target: "agent:\(input.agentId)", detail: error.message,
                    source: context.remoteAddress)
                throw error
            }
            let configuration = try await collector.configuration(
                for: agent, builtinURL: publicURL.url + "/dav", builtinCAPEM: caPEM)
            return EditedResponse(
                status: .created, response: EnrolmentResponse(agentToken: token, configuration: configuration))
        }
        let agent = router.group("api/v1/agent").add(middleware: AgentAuthentication(agents: collector.agents))
        agent.get("config") { _, context in
            try await collector.configuration(
                for: context.agent!, builtinURL: publicURL.url + "/dav", builtinCAPEM: caPEM)
        }

        let admin = router.group("api/v1/admin").add(middleware: SessionAuthentication(collector: collector))
        admin.post("enrolment-codes") { request, context in
            let input = try await request.decodeStrict(CodeRequest.self, context: context)
            return EditedResponse(
                status: .created,
                response: try await collector.agents.makeCode(
                    nodePath: input.nodePath, hours: input.expiresInHours ?? 24, by: context.actor))
        }
        admin.get("agents") { _, _ in Items(items: try await collector.agentOverview()) }
        admin.get("agents/:id") { _, context in try await collector.agents.get(try context.parameters.require("id")) }
        admin.post("agents/:id/revoke") { _, context in
            try await collector.agents.revoke(try context.parameters.require("id"), by: context.actor)
            return HTTPResponse.Status.noContent
        }
        admin.post("agents/:id/allow-reenrolment") { _, context in
            try await collector.agents.allowReenrolment(try context.parameters.require("id"), by: context.actor)
            return HTTPResponse.Status.noContent
        }
        admin.get("agents/:id/storage-credentials") { _, context in
            Items(items: try await collector.agentStorageCredentials.list(agentId: try context.parameters.require("id")))
        }
        admin.put("agents/:id/storage-credentials/:target") { request, context in
            let input = try await request.decodeStrict(AgentStorageCredentials.Input.self, context: context)
            return try await collector.agentStorageCredentials.set(
                agentId: try context.parameters.require("id"), target: try context.parameters.require("target"),
                input, by: context.actor)
        }
        admin.delete("agents/:id/storage-credentials/:target") { _, context in
            try await collector.agentStorageCredentials.remove(
                agentId: try context.parameters.require("id"), target: try context.parameters.require("target"),
                by: context.actor)
            return HTTPResponse.Status.noContent
        }
    }
}

struct CodeRequest: Decodable {
    var nodePath: String
    var expiresInHours: Int?

    enum CodingKeys: String, CodingKey {
        case nodePath = "node_path"
        case expiresInHours = "expires_in_hours"
    }
}

extension AgentConfigurationDocument: ResponseEncodable {}
extension EnrolmentResponse: ResponseEncodable {}
extension Agents.Agent: ResponseEncodable {}
extension Agents.EnrolmentCode: ResponseEncodable {}
extension AgentStorageCredentials.Record: ResponseEncodable {}

/// Agent routes: `Authorization: Bearer rca_...` of an enrolled, unrevoked agent, or 401.
struct AgentAuthentication: RouterMiddleware {
    typealias Context = CollectorContext
    let agents: Agents

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard let token = SessionAuthentication.bearerToken(request) else {
            throw CollectorError(.unauthorized, "send the agent token: Authorization: Bearer <token from enrolment>")
        }
        guard let agent = try await agents.agent(forToken: token) else {
            throw CollectorError(.unauthorized, "this agent token is unknown or revoked; enrol the workstation again")
        }
        var context = context
        context.agent = agent
        return try await next(request, context)
    }
}
