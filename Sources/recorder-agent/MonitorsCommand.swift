import ArgumentParser
import RecorderAgent

/// `recorder-agent monitors`: lists what `--monitor` accepts on a display.
struct MonitorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitors", abstract: "List the display's RandR monitors (names for --monitor).")

    @Option(help: "X display (default: $DISPLAY).")
    var display: String?

    func run() throws {
        let connection = try X11Display(name: display)
        let size = connection.rootSize()
        print("screen \(size.width)x\(size.height)")
        for monitor in connection.monitors() {
            print("\(monitor.name)\t\(monitor.bounds)\(monitor.isPrimary ? "\tprimary" : "")")
        }
    }
}
