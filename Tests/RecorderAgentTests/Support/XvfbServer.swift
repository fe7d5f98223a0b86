import Foundation
import TestSupport

/// A real Xvfb started for one test on a free display number, stopped when the test ends.
final class XvfbServer: @unchecked Sendable {
    let display: String
    let number: Int
    private let process: Process

    /// `-displayfd` makes Xvfb pick a free display and tell us once it accepts connections.
    init(width: Int = 1280, height: Int = 720, listenTCP: Bool = false) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try ProcessRunner.which("Xvfb"))
        let pipe = Pipe()
        // -noreset: the server keeps its state (RandR changes) when the last client disconnects.
        process.arguments =
            ["-displayfd", "1", "-screen", "0", "\(width)x\(height)x24", "-noreset"]
            + (listenTCP ? ["-listen", "tcp"] : ["-nolisten", "tcp"])
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        var collected = Data()
        while !collected.contains(UInt8(ascii: "\n")) {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty {
                throw TestFailure("Xvfb exited before announcing its display")
            }
            collected.append(chunk)
        }
        let text = String(decoding: collected, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let number = Int(text) else { throw TestFailure("Xvfb announced \"\(text)\"") }
        self.number = number
        self.display = ":\(number)"
        self.process = process
    }

    /// The same server reached over TCP, as a remote workstation's display would be (no MIT-SHM possible).
    var tcpDisplay: String { "127.0.0.1:\(number)" }

    /// Kills the server, as a crash or a logout would.
    func kill() {
        ProcessRunner.kill(process)
    }

    deinit {
        ProcessRunner.kill(process)
    }
}

/// The `x11-scene` helper drawing a scripted scene; its JSON lines say when the picture changed.
final class SceneProcess: @unchecked Sendable {
    private let process: Process
    private let output: URL

    init(display: String, scene: String, seconds: Double? = nil, period: Double? = nil) throws {
        var arguments = ["--display", display, "--scene", scene]
        if let seconds { arguments += ["--seconds", "\(seconds)"] }
        if let period { arguments += ["--period", "\(period)"] }
        (process, output) = try ProcessRunner.launch(ProcessRunner.product("x11-scene"), arguments)
    }

    struct Event: Decodable {
        let event: String
        let wallTimeNanos: Int64
    }

    /// Waits until the scene has announced `count` events (or ended).
    func waitForEvents(_ count: Int) throws -> [Event] {
        while true {
            let current = events()
            if current.count >= count || !process.isRunning { return current }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    func events() -> [Event] {
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Event.self, from: Data($0.utf8)) }
    }

    func stop() {
        ProcessRunner.kill(process)
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: output)
    }
}

/// What most end-to-end tests start from: a real Xvfb, a scripted scene drawing on it and a fresh
/// working directory. Keep it alive with `defer { desktop.stop() }`: Swift may release a local after
/// its last use, which would kill the X server under a recording still in progress.
final class LiveDesktop: @unchecked Sendable {
    let xvfb: XvfbServer
    let scene: SceneProcess
    let directory: String
    var display: String { xvfb.display }

    init(width: Int = 320, height: Int = 240, scene: String = "demo", seconds: Double = 60) throws {
        xvfb = try XvfbServer(width: width, height: height)
        self.scene = try SceneProcess(display: xvfb.display, scene: scene, seconds: seconds)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("desktop-\(UUID().uuidString)").path
    }

    func stop() {
        scene.stop()
    }
}
