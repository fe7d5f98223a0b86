import ArgumentParser
import CX11
import Foundation

/// Draws scripted, deterministic scenes on an X display so that the demo, the tests and the benchmarks
/// show every recorder (ours and ffmpeg) exactly the same pixels at the same times.
@main
struct SceneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "x11-scene",
        abstract: "Draw a deterministic test scene on an X display.",
        discussion: """
            Scenes: rectangles (test pattern that changes every --period; prints one JSON line per state),
            office (scrolling text, a moving window, typing), idle (a static desktop), demo (a moving box and clock),
            noise (every block changes every tick), and the busy desktops: terminal (a build log scrolling),
            typing (a form typed into), drag (a window dragged across the screen), video (a video in a corner).
            """)

    @Option(help: "X display (default: $DISPLAY).")
    var display: String?

    @Option(help: "rectangles, office, idle, demo, noise, terminal, typing, drag or video.")
    var scene: String = "demo"

    @Option(help: "How long to run, in seconds (default: until killed).")
    var seconds: Double?

    @Option(help: "rectangles: seconds between state changes.")
    var period: Double = 2

    func run() throws {
        let name = display ?? ProcessInfo.processInfo.environment["DISPLAY"] ?? ""
        guard let handle = XOpenDisplay(name) else {
            throw ValidationError("cannot open X display \"\(name)\"")
        }
        let canvas = Canvas(display: handle)
        let script: SceneScript
        switch scene {
        case "rectangles": script = RectanglesScene(period: period)
        case "office": script = OfficeScene()
        case "idle": script = IdleScene()
        case "demo": script = DemoScene()
        case "noise": script = NoiseScene()
        case "terminal": script = TerminalScene()
        case "typing": script = TypingScene()
        case "drag": script = DragScene()
        case "video": script = VideoScene()
        default:
            throw ValidationError(
                "unknown scene \"\(scene)\": use rectangles, office, idle, demo, noise, terminal, typing, drag or video")
        }
        let start = Date()
        var frame = 0
        while true {
            let elapsed = Date().timeIntervalSince(start)
            if let seconds, elapsed >= seconds { break }
            if let event = script.draw(on: canvas, elapsed: elapsed, frame: frame) {
                // XSync: the pixels are in the server before the change is announced.
                XSync(handle, 0)
                let wall = Int64(Date().timeIntervalSince1970 * 1e9)
                // Unbuffered: a test reads each line while the scene is still running.
                FileHandle.standardOutput.write(Data("{\"event\":\"\(event)\",\"wallTimeNanos\":\(wall)}\n".utf8))
            } else {
                XSync(handle, 0)
            }
            frame += 1
            let next = start.addingTimeInterval(Double(frame) * script.tick)
            let wait = next.timeIntervalSinceNow
            if wait > 0 { Thread.sleep(forTimeInterval: wait) }
        }
        XCloseDisplay(handle)
    }
}
