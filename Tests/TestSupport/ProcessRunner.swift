import Foundation
import Glibc

/// Runs helper programs (ffprobe, ffmpeg, xrandr, our own binaries) and captures what they print.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    public let stdoutData: Data
}

public enum ProcessRunner {
    /// Directory holding the package's built executables (next to the test bundle).
    public static var productsDirectory: URL {
        // /proc/self/exe: argv[0] may be relative or a launcher's name, the kernel's link is not.
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        while directory.pathComponents.count > 1 {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("recorder-agent").path) {
                return directory
            }
            directory = directory.deletingLastPathComponent()
        }
        fatalError("cannot find the built recorder-agent near \(executable.path); run `swift build` first")
    }

    public static func product(_ name: String) -> String {
        productsDirectory.appendingPathComponent(name).path
    }

    /// Runs to completion. Output goes through files so a chatty program can never block on a full pipe.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws
        -> ProcessResult
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : try which(executable))
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        process.environment = env
        let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("out-\(UUID().uuidString)")
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let out = (try? Data(contentsOf: outURL)) ?? Data()
        let err = (try? Data(contentsOf: errURL)) ?? Data()
        return ProcessResult(
            status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
            stderr: String(decoding: err, as: UTF8.self), stdoutData: out)
    }

    /// Starts `executable` in the background with its stdout (or stderr) going to a fresh temporary file.
    public static func launch(
        _ executable: String, _ arguments: [String], captureStandardError: Bool = false,
        environment: [String: String] = [:]
    ) throws -> (process: Process, output: URL) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("bg-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = captureStandardError ? FileHandle.nullDevice : handle
        process.standardError = captureStandardError ? handle : FileHandle.nullDevice
        try process.run()
        return (process, output)
    }

    /// Waits until `file` (a launched process's output) contains `text`, the process exits, or
    /// `seconds` pass; returns the output when the text appeared. The one way tests wait for a
    /// server's own readiness line.
    public static func waitForOutput(
        containing text: String, in file: URL, of process: Process? = nil, seconds: Double = 60
    ) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let printed = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            if printed.contains(text) { return printed }
            if let process, !process.isRunning { return nil }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return nil
    }

    /// SIGKILL, not SIGTERM: children of the test runner inherit its blocked signal mask, and helpers
    /// such as Xvfb never unblock SIGTERM, so a polite stop would wait forever.
    public static func kill(_ process: Process) {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    public static func which(_ name: String) throws -> String {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw TestFailure("\(name) is not installed (run .ci/run or apt-get install it)")
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
