import Foundation
import TestSupport
import TestTraits
import Testing

/// The built-in store against `litmus`, the WebDAV conformance suite (Debian package), run on the real
/// collector program. Plain HTTP on 127.0.0.1: litmus cannot be told to trust a private CA, and TLS is
/// covered by the other tests; the store's semantics are the same either way.
@Suite(.serialized, .realTime)
struct LitmusTests {
    @Test func basicCopymovePropsAndHttpSuitesPassCompletely() throws {
        let litmus = try ProcessRunner.which("litmus")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("litmus-\(UUID().uuidString)")
            .path
        let running = try CollectorProcess(dataDirectory: directory, arguments: ["--plain-http"])
        defer { running.stop() }
        let password = try #require(running.adminPassword)
        let address = running.url
        let made = try ProcessRunner.run(
            "curl",
            [
                "-s", "-o", "/dev/null", "-w", "%{http_code}", "-u", "admin:\(password)", "-X", "MKCOL",
                "\(address)/dav/litmus/",
            ])
        #expect(made.stdout == "201")

        var suite = ""
        var failures: Set<String> = []
        var summaries: [String: (run: Int, passed: Int)] = [:]
        var transcript = ""
        // One suite per run: litmus's TESTS list stops early when a suite has failures.
        for name in ["basic", "copymove", "props", "http"] {
            let run = try ProcessRunner.run(
                litmus, ["\(address)/dav/litmus/", "admin", password], environment: ["TESTS": name])
            transcript += run.stdout
            for line in run.stdout.split(separator: "\n").map(String.init) {
                if let match = line.firstMatch(of: /-> running `(\w+)'/) { suite = String(match.1) }
                if let match = line.firstMatch(of: /\d+\. (\w+)\.+ FAIL/) { failures.insert("\(suite)/\(match.1)") }
                if let match = line.firstMatch(of: /summary for `(\w+)': of (\d+) tests run: (\d+) passed/) {
                    summaries[String(match.1)] = (Int(match.2)!, Int(match.3)!)
                }
            }
        }
        #expect(Set(summaries.keys) == ["basic", "copymove", "props", "http"], "\(transcript)")
        #expect(failures.isEmpty, "\(transcript)")
        #expect(summaries["props"].map { $0.run == $0.passed && $0.run >= 30 } == true, "nothing skipped")
        #expect(summaries["basic"].map { $0.run == $0.passed && $0.run >= 16 } == true)
        #expect(summaries["copymove"].map { $0.run == $0.passed && $0.run >= 13 } == true)
        #expect(summaries["http"].map { $0.run == $0.passed && $0.run >= 4 } == true)
    }
}
