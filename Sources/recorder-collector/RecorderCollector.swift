import ArgumentParser

@main
struct RecorderCollector: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recorder-collector",
        abstract: "The screen recorder's service: storage and node-path administration, agents, catalog.",
        subcommands: [ServeCommand.self, AdminCommand.self, KeysCommand.self, DecryptCommand.self])
}
