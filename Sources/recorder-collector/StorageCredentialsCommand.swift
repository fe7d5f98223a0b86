import ArgumentParser
import CollectorCore
import Foundation

/// `admin agent storage-credentials`: an agent's own account on an external WebDAV target.
struct StorageCredentialsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage-credentials",
        abstract: "An agent's own account on an external storage target, used instead of the target's shared one.",
        subcommands: [Set.self, Remove.self, List.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give an agent its own account on a storage target. The password or token comes from standard "
                + "input (--secret-stdin) or RECORDER_COLLECTOR_STORAGE_SECRET, never from an argument.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Agent id.") var id: String
        @Argument(help: "Storage target name.") var target: String
        @Option(help: "User name (basic and digest targets).") var username: String?
        @Flag(help: "Read the password or bearer token from standard input.") var secretStdin = false

        func run() async throws {
            guard
                let secret = try readSecret(
                    stdin: secretStdin, environment: "RECORDER_COLLECTOR_STORAGE_SECRET", what: "password or token")
            else { throw ValidationError("give the password or token on standard input with --secret-stdin") }
            try await withCollector(common) { collector, actor in
                let input =
                    username == nil
                    ? AgentStorageCredentials.Input(bearerToken: secret)
                    : AgentStorageCredentials.Input(username: username, password: secret)
                try printJSON(
                    try await collector.agentStorageCredentials.set(agentId: id, target: target, input, by: actor))
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove an agent's own account (it falls back to the target's shared one, if the target allows).")
        @OptionGroup var common: CommonOptions
        @Argument var id: String
        @Argument var target: String

        func run() async throws {
            try await withCollector(common) { collector, actor in
                try await collector.agentStorageCredentials.remove(agentId: id, target: target, by: actor)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List agents' own accounts (secrets never shown).")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Only this agent.") var id: String?

        func run() async throws {
            try await withCollector(common) { collector, _ in
                print("AGENT\tSTORAGE\tUSER\tUPDATED")
                for record in try await collector.agentStorageCredentials.list(agentId: id) {
                    printRow([record.agentId, record.storageTarget, record.username ?? "-", record.updatedAt])
                }
            }
        }
    }
}
