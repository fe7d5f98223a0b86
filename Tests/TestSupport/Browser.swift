import Foundation
import Glibc

/// A real headless Chromium, driven over W3C WebDriver by Debian's chromedriver, for the web app's
/// tests: open a page, run a script in it, take a screenshot. Commands go over HTTP with curl, on
/// 127.0.0.1 only. The browser trusts the collector's certificate by being told to ignore
/// certificate errors (it is started for one test and thrown away), plays media without a gesture,
/// and has a profile of its own.
public final class Browser: @unchecked Sendable {
    public static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
    }

    let driver: Process
    let base: String
    let session: String
    let profile: String

    public init(width: Int = 1280, height: Int = 720) throws {
        let port = try ApacheDAVServer.freePort()
        profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: profile, withIntermediateDirectories: true)
        driver = Process()
        driver.executableURL = URL(fileURLWithPath: "/usr/bin/chromedriver")
        driver.arguments = ["--port=\(port)", "--allowed-ips=127.0.0.1", "--log-path=\(profile)/chromedriver.log"]
        driver.standardOutput = FileHandle.nullDevice
        driver.standardError = FileHandle.nullDevice
        try driver.run()
        base = "http://127.0.0.1:\(port)"
        let deadline = Date().addingTimeInterval(20)
        while (try? Self.request("GET", "\(base)/status"))?["value"] == nil {
            guard Date() < deadline, driver.isRunning else { throw TestFailure("chromedriver did not start on \(port)") }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let capabilities: [String: Any] = [
            "capabilities": [
                "alwaysMatch": [
                    "browserName": "chrome", "acceptInsecureCerts": true,
                    "goog:chromeOptions": [
                        "binary": "/usr/bin/chromium",
                        "args": [
                            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                            "--window-size=\(width),\(height)", "--user-data-dir=\(profile)/profile",
                            "--autoplay-policy=no-user-gesture-required", "--mute-audio", "--no-first-run",
                            "--disable-background-networking", "--disable-extensions",
                        ],
                    ],
                ]
            ]
        ]
        let created = try Self.request("POST", "\(base)/session", capabilities)
        guard let value = created["value"] as? [String: Any], let id = value["sessionId"] as? String else {
            driver.terminate()
            throw TestFailure("chromedriver made no session: \(created)")
        }
        session = id
    }

    public func go(_ url: String) throws {
        _ = try command("POST", "url", ["url": url])
    }

    /// Runs `script` (a function body: `return …`) in the page and returns its value.
    @discardableResult
    public func run(_ script: String, _ arguments: [Any] = []) throws -> Any? {
        try command("POST", "execute/sync", ["script": script, "args": arguments])
    }

    /// Runs `script` whose last argument is a callback (`arguments[arguments.length - 1]`), up to `timeout` s.
    @discardableResult
    public func runAsync(_ script: String, _ arguments: [Any] = [], timeout: Int = 30) throws -> Any? {
        _ = try command("POST", "timeouts", ["script": timeout * 1000])
        return try command("POST", "execute/async", ["script": script, "args": arguments])
    }

    /// Polls `condition` (a script returning a boolean) until true.
    public func wait(for condition: String, seconds: Double = 20, _ what: String) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if (try run("return Boolean(\(condition));") as? Bool) == true { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw TestFailure("the page never got to: \(what)")
    }

    public func screenshot(to path: String) throws {
        guard let text = try command("GET", "screenshot") as? String, let data = Data(base64Encoded: text) else {
            throw TestFailure("no screenshot")
        }
        try data.write(to: URL(fileURLWithPath: path))
    }

    /// Ends the session (the browser quits), then chromedriver: asked first, killed after 5 s.
    public func stop() {
        _ = try? Self.request("DELETE", "\(base)/session/\(session)")
        _ = try? Self.request("GET", "\(base)/shutdown")
        let deadline = Date().addingTimeInterval(5)
        while driver.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if driver.isRunning { kill(driver.processIdentifier, SIGKILL) }
        driver.waitUntilExit()
        try? FileManager.default.removeItem(atPath: profile)
    }

    private func command(_ method: String, _ path: String, _ body: [String: Any]? = nil) throws -> Any? {
        let answer = try Self.request(method, "\(base)/session/\(session)/\(path)", body)
        if let value = answer["value"] as? [String: Any], let error = value["error"] as? String {
            throw TestFailure("WebDriver \(path): \(error): \(value["message"] as? String ?? "")")
        }
        return answer["value"]
    }

    static func request(_ method: String, _ url: String, _ body: [String: Any]? = nil) throws -> [String: Any] {
        var arguments = ["-s", "-X", method, "-H", "Content-Type: application/json", "--max-time", "120"]
        if let body { arguments += ["--data-binary", String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)] }
        let result = try ProcessRunner.run("curl", arguments + [url])
        guard result.status == 0 else { throw TestFailure("curl \(url): \(result.status) \(result.stderr)") }
        return (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any] ?? [:]
    }
}

extension Browser {
    /// The web player's |screen − voice| in seconds, measured by the page itself (`window.player.state()`)
    /// `count` times `every` ms apart while it plays, starting after `after` ms; fewer when it stops.
    public func playerDrifts(count: Int, every: Int, after: Int = 0) throws -> [Double] {
        let measured = try runAsync(
            """
            const done = arguments[arguments.length - 1];
            const drifts = [];
            const sample = () => {
              const s = window.player.state();
              if (s.audio !== null && s.video !== null && s.playing) drifts.push(Math.abs(s.video - s.audio));
              if (drifts.length >= \(count) || !s.playing) done(drifts); else setTimeout(sample, \(every));
            };
            setTimeout(sample, \(after));
            """, timeout: count * every / 1000 + 60) as? [Any] ?? []
        return measured.compactMap { ($0 as? NSNumber)?.doubleValue }
    }
}
