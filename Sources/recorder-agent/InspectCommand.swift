import ArgumentParser
import Foundation
import RecorderCore

/// `recorder-agent inspect FILE...`: checks recorder WebM files with our own parser and prints their facts.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Validate WebM segments (keyframe first, Cues, Duration, DateUTC) and print a summary.")

    @Argument(help: "WebM files to check.")
    var files: [String]

    func run() throws {
        var failures = 0
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for file in files {
            do {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw ValidationError("cannot read \(file)")
                }
                let summary = try WebMFileSummary.parse(Array(data))
                let start = Date(timeIntervalSince1970: Double(summary.startWallTimeNanos) / 1e9)
                print(
                    "\(file): \(summary.codecID) \(summary.width)x\(summary.height), \(summary.blocks.count) frames "
                        + "(\(summary.blocks.filter(\.isKeyframe).count) key), duration \(String(format: "%.3f", summary.durationMs / 1000)) s, "
                        + "starts \(formatter.string(from: start)), \(summary.cuePoints.count) cue point(s)")
            } catch {
                failures += 1
                print("\(file): INVALID: \(error)")
            }
        }
        if failures > 0 { throw ExitCode.failure }
    }
}
