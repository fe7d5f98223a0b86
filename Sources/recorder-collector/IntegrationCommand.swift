import ArgumentParser
import CollectorCore
import Foundation

/// `admin integration`: who may post call events to `POST /api/v1/cti/events`.
struct IntegrationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "integration", abstract: "Integrations that post call events (each with a token of its own).",
        subcommands: [Add.self, Revoke.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an integration and print its token (shown this once; store it in the phone system).")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Name, e.g. genesys-emea.") var name: String
        @Option(help: "webhook (our call event contract).") var kind: String = "webhook"

        func run() async throws {
            guard let parsed = Integrations.Kind(rawValue: kind) else {
                throw ValidationError("--kind \(kind): use \(Integrations.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            try await withCollector(common) { collector, actor in
                let (integration, token) = try await collector.integrations.create(name: name, kind: parsed, by: actor)
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
}
