import ArgumentParser
import CollectorCore
import Foundation

/// `admin integration`: who may post call events to `POST /api/v1/cti/events`.
struct IntegrationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "integration", abstract: "Integrations that post call events (each with a token of its own).",
        subcommands: [Add.self, Revoke.self, List.self, Map.self, Identities.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an integration and print its token (shown this once; store it in the phone system).")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Name, e.g. genesys-emea.") var name: String
        @Option(help: "webhook (our call event contract), amazon-connect (EventBridge contact events, agent event stream) or genesys-cloud (conversation notifications).") var kind: String = "webhook"
        @Flag(
            name: .customLong("workstation-logins"),
            help: "Let workstations say which of this integration's agents sits at them (a softphone's login: recorder-agent login).")
        var workstationLogins = false

        func run() async throws {
            guard let parsed = Integrations.Kind(rawValue: kind) else {
                throw ValidationError("--kind \(kind): use \(Integrations.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            try await withCollector(common) { collector, actor in
                let (integration, token) = try await collector.integrations.create(
                    name: name, kind: parsed, workstationLogins: workstationLogins, by: actor)
                print("integration \(integration.name) (\(integration.kind.rawValue)); its token, shown once:")
                print(token)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an integration's token at once.")
        @OptionGroup var common: CommonOptions
        @Argument var name: String

        func run() async throws {
            try await withCollector(common) { collector, actor in
                try await collector.integrations.revoke(name, by: actor)
                print("revoked integration \(name)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List integrations (tokens never shown).")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await withCollector(common) { collector, _ in
                print("NAME\tKIND\tCREATED\tBY\tSTATUS")
                for integration in try await collector.integrations.list() {
                    printRow([
                        integration.name, integration.kind.rawValue, integration.createdAt, integration.createdBy,
                        integration.revokedAt.map { "revoked \($0)" } ?? "active",
                    ])
                }
            }
        }
    }

    struct Map: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Say at which workstation a phone system's agent sits now (its events go there).")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Integration name.") var integration: String
        @Argument(help: "The agent's identity in that phone system (userId, agent ARN, extension).") var externalId: String
        @Option(help: "The enrolled agent (workstation) id.") var agent: String

        func run() async throws {
            try await withCollector(common) { collector, actor in
                _ = try await collector.agentIdentities.set(
                    integration: integration, externalId: externalId, agentId: agent, by: actor)
                print("\(integration) \(externalId) → workstation \(agent)")
            }
        }
    }

    struct Identities: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List where phone-system agents sit.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Only this integration.") var integration: String?

        func run() async throws {
            try await withCollector(common) { collector, _ in
                print("INTEGRATION\tAGENT IDENTITY\tWORKSTATION\tUPDATED\tBY")
                for identity in try await collector.agentIdentities.list(integration: integration) {
                    printRow([
                        identity.integration, identity.externalId, identity.agentId, identity.updatedAt, identity.updatedBy,
                    ])
                }
            }
        }
    }
}
