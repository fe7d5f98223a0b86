import ArgumentParser
import RecorderCore

@main
struct RecorderCollector: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recorder-collector",
        abstract: "The screen recorder's service: storage and node-path administration, agents, catalog.",
        version: ProductVersion.current,
        subcommands: [
            ServeCommand.self, AdminCommand.self, KeysCommand.self, DecryptCommand.self, ReindexCommand.self,
            VerifyStorageCommand.self, VoiceCommand.self, AuditCommand.self,
        ])
}
