import ArgumentParser
import RecorderCore

@main
struct RecorderAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recorder-agent",
        abstract: "Records an X11 screen as VP8/WebM segments for the contact-center recorder.",
        version: ProductVersion.current,
        subcommands: [
            RecordCommand.self, MonitorsCommand.self, InspectCommand.self, OpenCommand.self, VerifyCommand.self,
            StatusCommand.self, UploadCommand.self, EnrollCommand.self, EventCommand.self, LoginCommand.self,
        ])
}
