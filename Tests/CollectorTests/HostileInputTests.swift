import CollectorCore
import Foundation
import Glibc
import Synchronization
import TestSupport
import TestTraits
import Testing

/// What an attacker sends, against a real `recorder-collector serve` over HTTPS: each request gets
/// the expected refusal, and afterwards the collector still answers, its memory stays bounded, and
/// nothing recorded is touched.
@Suite(.serialized, .realTime)
struct HostileInputTests {
    /// A collector with short timeouts and a small per-address cap, so the connection tests finish soon.
    static func start(_ extra: [String: Any] = [:], arguments: [String] = []) throws -> CollectorProcess {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var file: [String: Any] = [
            "version": 1,
            "connection_limits": [
                "header_timeout_seconds": 2, "idle_timeout_seconds": 3, "body_stall_timeout_seconds": 2,
                "max_connections_per_address": 40,
            ],
        ]
        file.merge(extra) { $1 }
        let config = directory.appendingPathComponent("collector.json")
        try JSONSerialization.data(withJSONObject: file).write(to: config)
        return try CollectorProcess(
            dataDirectory: directory.appendingPathComponent("data").path,
            arguments: ["--config", config.path] + arguments)
    }

    struct Answer {
        var status: Int
        var body: String
        var headers: String
    }

    /// One request with curl, trusting only the collector's CA. `source` binds another loopback
    /// address (127.0.0.2: "another client" for per-address limits).
    static func curl(
        _ collector: CollectorProcess, _ method: String, _ path: String, body: String? = nil, bodyFile: String? = nil,
        headers: [String] = [], user: String? = nil, source: String? = nil, limitRate: String? = nil,
        maxTime: Int = 120
    ) throws -> Answer {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("curl-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(atPath: out.path)
            try? FileManager.default.removeItem(atPath: out.path + ".h")
        }
        var arguments = [
            "-s", "--cacert", collector.caFile, "-X", method, "-o", out.path, "-D", out.path + ".h", "-w",
            "%{http_code}", "--max-time", "\(maxTime)",
        ]
        for header in headers { arguments += ["-H", header] }
        if let user { arguments += ["-u", user] }
        if let source { arguments += ["--interface", source] }
        if let limitRate { arguments += ["--limit-rate", limitRate] }
        if let body { arguments += ["--data-binary", body] }
        if let bodyFile { arguments += ["--data-binary", "@\(bodyFile)"] }
        let result = try ProcessRunner.run("curl", arguments + [collector.url + path])
        return Answer(
            status: Int(result.stdout) ?? 0,
            body: (try? String(contentsOfFile: out.path, encoding: .utf8)) ?? "",
            headers: (try? String(contentsOfFile: out.path + ".h", encoding: .utf8)) ?? "")
    }

    static func adminUser(_ collector: CollectorProcess) throws -> String {
        "admin:\(try #require(collector.adminPassword))"
    }

    /// The collector still answers, and an agent (a new one, from an address of its own) still enrols
    /// and uploads into its area.
    static func expectAlive(_ collector: CollectorProcess, _ context: String) throws {
        #expect(collector.isRunning, "\(context): the collector died")
        let health = try curl(collector, "GET", "/healthz", source: "127.0.0.2")
        #expect(health.status == 200 && health.body == "ok", "\(context): /healthz answered \(health.status)")
        let code = try ProcessRunner.run(
            ProcessRunner.product("recorder-collector"),
            ["admin", "enrolment-code", "create", "/", "--data-dir", collector.dataDirectory])
        let agentId = "ws-alive-\(UUID().uuidString.prefix(8).lowercased())"
        let enrol = try curl(
            collector, "POST", "/api/v1/agents/enrol",
            body: #"{"code":"\#(code.stdout.prefix(19))","agent_id":"\#(agentId)","signing_key":"\#(Self.publicKey)"}"#,
            headers: ["Content-Type: application/json"], source: "127.0.0.6")
        guard enrol.status == 201,
            let object = try? JSONSerialization.jsonObject(with: Data(enrol.body.utf8)) as? [String: Any],
            let token = object["agent_token"] as? String
        else {
            Issue.record("\(context): an agent could not enrol: \(enrol.status) \(enrol.body)")
            return
        }
        let today = Date().formatted(.iso8601.year().month().day().dateSeparator(.dash)).split(separator: "-")
        var path = "/dav"
        for component in today.map(String.init) + [agentId] {
            path += "/\(component)"
            let made = try curl(collector, "MKCOL", path + "/", headers: ["Authorization: Bearer \(token)"], source: "127.0.0.6")
            #expect(made.status == 201 || made.status == 405, "\(context): MKCOL \(path): \(made.status) \(made.body)")
        }
        let upload = try curl(
            collector, "PUT", path + "/alive.webm.p7m", body: "sealed bytes", headers: ["Authorization: Bearer \(token)"],
            source: "127.0.0.6")
        #expect(upload.status == 201, "\(context): an agent's upload answered \(upload.status) \(upload.body)")
    }

    static func file(_ contents: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("body-\(UUID().uuidString)").path
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func hostileXMLIsRefusedWithoutCrashingOrBurningCPU() throws {
        let collector = try Self.start()
        defer { collector.stop() }
        let admin = try Self.adminUser(collector)
        // 30 000 nested elements, under the 256 KB body limit so the parser itself is tried.
        let deep = String(repeating: "<a>", count: 30_000) + String(repeating: "</a>", count: 30_000)
        let nested = try Self.file(
            #"<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>"# + deep + "</D:prop></D:propfind>")
        let propfind = try Self.curl(
            collector, "PROPFIND", "/dav/", bodyFile: nested, headers: ["Depth: 0"], user: admin)
        #expect(
            propfind.status == 400 && propfind.body.contains("nested deeper than 32"),
            "\(propfind.status) \(propfind.body)")
        let patch = try Self.file(
            #"<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:p xmlns:x="urn:x">"# + deep
                + "</x:p></D:prop></D:set></D:propertyupdate>")
        let proppatch = try Self.curl(collector, "PROPPATCH", "/dav/", bodyFile: patch, user: admin)
        #expect(proppatch.status == 400, "\(proppatch.status) \(proppatch.body)")
        try Self.expectAlive(collector, "after nested XML")

        let entity = try Self.file(
            #"<?xml version="1.0"?><!DOCTYPE D:propfind [<!ENTITY e "0123456789abcdef">]><D:propfind xmlns:D="DAV:"><D:prop>"#
                + String(repeating: "&e;", count: 60_000) + "</D:prop></D:propfind>")
        let before = collector.cpuSeconds
        let expanded = try Self.curl(
            collector, "PROPFIND", "/dav/", bodyFile: entity, headers: ["Depth: 0"], user: admin)
        #expect(
            expanded.status == 400 && expanded.body.contains("document type"), "\(expanded.status) \(expanded.body)")
        // Refused by a byte scan: far less CPU than expanding (9 s before). Not a timer: CPU the process used.
        #expect(collector.cpuSeconds - before < 2, "entity refusal cost too much CPU")
        let big = try Self.file(String(repeating: "x", count: 300_000))
        #expect(try Self.curl(collector, "PROPFIND", "/dav/", bodyFile: big, user: admin).status == 413)
        try Self.expectAlive(collector, "after entities")
    }

    @Test func copyAndMoveStayInsideTheirBoundsAndTheQuota() throws {
        let collector = try Self.start()
        defer { collector.stop() }
        let admin = try Self.adminUser(collector)
        #expect(try Self.curl(collector, "MKCOL", "/dav/q/", user: admin).status == 201)
        #expect(try Self.curl(collector, "MKCOL", "/dav/q/sub/", user: admin).status == 201)
        let payload = try Self.file(String(repeating: "r", count: 2 << 20))
        #expect(try Self.curl(collector, "PUT", "/dav/q/sub/a.bin", bodyFile: payload, user: admin).status == 201)
        let host = URL(string: collector.url)!.host! + ":\(URL(string: collector.url)!.port!)"
        let intoItself = try Self.curl(
            collector, "COPY", "/dav/q/", headers: ["Destination: https://\(host)/dav/q/sub/copy/"], user: admin)
        #expect(intoItself.status == 409 && intoItself.body.contains("into itself"), "\(intoItself.body)")
        let moveIntoItself = try Self.curl(
            collector, "MOVE", "/dav/q/", headers: ["Destination: /dav/q/sub/moved/"], user: admin)
        #expect(moveIntoItself.status == 409)
        let overParent = try Self.curl(
            collector, "MOVE", "/dav/q/sub/", headers: ["Destination: /dav/q/", "Overwrite: T"], user: admin)
        #expect(overParent.status == 409, "overwriting an ancestor would delete the source: \(overParent.body)")
        let otherHost = try Self.curl(
            collector, "COPY", "/dav/q/sub/a.bin", headers: ["Destination: https://elsewhere.example/dav/q/b.bin"],
            user: admin)
        #expect(otherHost.status == 502, "\(otherHost.status) \(otherHost.body)")
        let maybe = try Self.curl(
            collector, "COPY", "/dav/q/sub/a.bin", headers: ["Destination: /dav/q/b.bin", "Overwrite: maybe"],
            user: admin)
        #expect(maybe.status == 400, "\(maybe.status) \(maybe.body)")
        let controls = try Self.curl(collector, "PUT", "/dav/q/%0d%0aX:y", body: "x", user: admin)
        #expect(controls.status == 403, "a CR/LF in a name: \(controls.status)")
        let store = collector.dataDirectory + "/store/q"
        #expect(Self.treeBytes(store) == 2 << 20, "nothing was copied")

        // A 3 MB quota on /q: one more copy of 2 MB does not fit, and is refused before it starts.
        let quota = try ProcessRunner.run(
            ProcessRunner.product("recorder-collector"),
            [
                "admin", "node-path", "add", "/q", "--storage", "builtin", "--quota-mb", "3", "--data-dir",
                collector.dataDirectory,
            ])
        #expect(quota.status == 0, "\(quota.stderr)")
        let over = try Self.curl(collector, "COPY", "/dav/q/sub/", headers: ["Destination: /dav/q/copy/"], user: admin)
        #expect(over.status == 507 && over.body.contains("quota"), "\(over.status) \(over.body)")
        #expect(Self.treeBytes(store) == 2 << 20)
        let announced = try Self.curl(
            collector, "PUT", "/dav/q/huge.bin", body: "x", headers: ["Content-Length: 4294967296", "Expect:"],
            user: admin)
        #expect(announced.status == 413 || announced.status == 507, "\(announced.status)")
        #expect(!FileManager.default.fileExists(atPath: store + "/huge.bin"))
        // Uploads side by side claim the quota as their bytes arrive: of four 600 KB PUTs streaming at
        // once (two announce their length, two are chunked), no more than one fits the 1 MB left.
        let part = try Self.file(String(repeating: "p", count: 600 * 1024))
        let sideBySide = (0..<4).map { index in
            Thread.detachNewThreadWithResult {
                (try? Self.curl(
                    collector, "PUT", "/dav/q/side-\(index).bin", bodyFile: part,
                    headers: index % 2 == 0 ? [] : ["Transfer-Encoding: chunked"], user: admin, limitRate: "200k"
                ).status) ?? 0
            }
        }.map { $0.wait() }
        #expect(sideBySide.filter { $0 == 201 }.count <= 1, "\(sideBySide)")
        #expect(sideBySide.allSatisfy { $0 == 201 || $0 == 507 }, "\(sideBySide)")
        #expect(Self.treeBytes(store) <= 3 << 20, "the quota holds: \(Self.treeBytes(store)) bytes")
        try Self.expectAlive(collector, "after copies")
    }

    @Test func idleAndHalfOpenConnectionsAreClosedAndCapped() throws {
        let collector = try Self.start()
        defer { collector.stop() }
        let port = UInt16(URL(string: collector.url)!.port!)
        // 60 sockets from 127.0.0.1 that never send a byte (no TLS handshake): 40 admitted, 20 refused.
        let sockets = try (0..<60).map { _ in try Self.connect(port: port) }
        defer { sockets.forEach { close($0) } }
        // Another client is served while they hang (per-address cap: they cannot take its place).
        try Self.expectAlive(collector, "while 60 idle connections are open")
        // Each one is closed by the collector: at once when over the cap, after the header timeout
        // otherwise. A read returns end-of-file; the socket's own timeout only guards the test.
        var closed = 0
        for socket in sockets where Self.readsEndOfFile(socket) { closed += 1 }
        #expect(closed == 60, "the collector closed \(closed) of 60 silent connections")
        try Self.expectAlive(collector, "after the idle connections")
    }

    /// A request answered before its body arrived (a 404 needs no body), whose body then never comes,
    /// is closed at the body-stall timeout instead of being held forever.
    @Test func aBodyThatNeverComesAfterAnEarlyAnswerIsClosed() throws {
        let collector = try Self.start(arguments: ["--plain-http"])
        defer { collector.stop() }
        let socket = try Self.connect(port: UInt16(URL(string: collector.url)!.port!))
        defer { close(socket) }
        let request = "POST /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\n\r\n"
        _ = request.withCString { send(socket, $0, strlen($0), 0) }
        var answer = [UInt8](repeating: 0, count: 4096)
        let count = recv(socket, &answer, answer.count, 0)
        #expect(count > 0 && String(decoding: answer[0..<max(0, count)], as: UTF8.self).hasPrefix("HTTP/1.1 404"))
        var rest = 0
        while true {
            let more = recv(socket, &answer, answer.count, 0)
            if more <= 0 {
                rest = Int(more)
                break
            }
        }
        #expect(rest == 0 || errno == ECONNRESET, "the collector closed the connection (recv: \(rest), errno \(errno))")
        try Self.expectAliveOverHTTP(collector)
    }

    /// A download whose client stops reading is closed after the body-stall time, not held forever.
    @Test func aDownloadNobodyReadsIsClosed() throws {
        let collector = try Self.start(arguments: ["--plain-http"])
        defer { collector.stop() }
        let password = try #require(collector.adminPassword)
        let big = collector.dataDirectory + "/store/big.bin"
        #expect(FileManager.default.createFile(atPath: big, contents: Data(count: 100 << 20)))
        let socket = try Self.connect(port: UInt16(URL(string: collector.url)!.port!))
        defer { close(socket) }
        let credentials = Data("admin:\(password)".utf8).base64EncodedString()
        let request = "GET /dav/big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic \(credentials)\r\n\r\n"
        _ = request.withCString { send(socket, $0, strlen($0), 0) }
        // Read nothing until the collector has had time to give up (body stall: 2 s), then drain.
        Thread.sleep(forTimeInterval: 5)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var received = 0
        while true {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += count
        }
        #expect(
            received > 0 && received < 100 << 20, "the collector gave up the stalled download after \(received) bytes")
        try Self.expectAliveOverHTTP(collector)
    }

    /// Thirty clients that ask for a 15 MB recording and read nothing hold about a chunk each in the
    /// collector, not the recording: its answers wait for the connection (`ConnectionPace`). Before,
    /// Hummingbird's writer learnt of a full socket only after the whole answer was handed to it
    /// (chunks sliced from memory never wait), and slow readers of one recording took the collector
    /// to gigabytes. A reader that does read then gets every byte.
    @Test func slowReadersOfARecordingHoldAChunkEachNotTheRecording() throws {
        let collector = try Self.start([
            "connection_limits": [
                "header_timeout_seconds": 5, "idle_timeout_seconds": 5, "body_stall_timeout_seconds": 60,
                "max_connections_per_address": 40,
            ]
        ])
        defer { collector.stop() }
        let added = try ProcessRunner.run(
            ProcessRunner.product("recorder-collector"),
            ["admin", "integration", "add", "pbx", "--data-dir", collector.dataDirectory])
        let pbx = String(added.stdout.split(separator: "\n").last ?? "")
        let event = #"{"event_id":"e1","type":"leg.started","occurred_at":"2026-12-01T10:00:00Z","interaction_id":"call-m","leg_id":"leg-1"}"#
        let accepted = try Self.curl(
            collector, "POST", "/api/v1/cti/events", body: event,
            headers: ["Authorization: Bearer \(pbx)", "Content-Type: application/json"])
        #expect(accepted.status == 200 || accepted.status == 202, "\(accepted.status) \(accepted.body)")
        let wav = FileManager.default.temporaryDirectory.appendingPathComponent("long-\(UUID().uuidString).wav").path
        defer { try? FileManager.default.removeItem(atPath: wav) }
        #expect(try ProcessRunner.run("sox", ["-n", "-r", "8000", "-c", "1", "-b", "16", wav, "synth", "960", "sine", "440"]).status == 0)
        let put = try Self.curl(
            collector, "PUT", "/api/v1/voice/call-m/leg-1", bodyFile: wav,
            headers: ["Authorization: Bearer \(pbx)", "Content-Type: audio/wav", "X-Voice-Start: 2026-12-01T10:00:00Z"])
        let voice = try #require(
            (try JSONSerialization.jsonObject(with: Data(put.body.utf8)) as? [String: Any])?["id"] as? String, "\(put.body)")
        let password = try #require(collector.adminPassword)
        let login = try Self.curl(
            collector, "POST", "/api/v1/auth/login", body: #"{"username":"admin","password":"\#(password)"}"#,
            headers: ["Content-Type: application/json"])
        let token = try #require((try JSONSerialization.jsonObject(with: Data(login.body.utf8)) as? [String: Any])?["token"] as? String)
        let path = "/api/v1/calls/call-m/voice/\(voice)/audio"
        // Played once first, so the recording is opened and cached before the baseline.
        #expect(try Self.curl(collector, "GET", path, headers: ["Authorization: Bearer \(token)"]).status == 200)
        let before = collector.residentKB
        // Over HTTPS, as the player reads (behind TLS the writer saw the socket full far too late):
        // curl reading 1 KB/s.
        var readers: [Process] = []
        defer {
            for reader in readers {
                kill(reader.processIdentifier, SIGKILL)
                reader.waitUntilExit()
            }
        }
        for _ in 0..<30 {
            let reader = Process()
            reader.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            reader.arguments = [
                "-s", "--cacert", collector.caFile, "--limit-rate", "1k", "-o", "/dev/null", "-H", "Authorization: Bearer \(token)",
                collector.url + path,
            ]
            try reader.run()
            readers.append(reader)
        }
        // Time for the answers to queue up as far as they will (the old code queued 420 MB here).
        var grown = 0
        for _ in 0..<20 {
            Thread.sleep(forTimeInterval: 0.2)
            grown = max(grown, collector.residentKB - before)
        }
        #expect(grown < 200 << 10, "30 slowly read 15 MB answers grew the collector by \(grown >> 10) MB")
        // A reader that reads gets the whole recording meanwhile.
        let fetched = FileManager.default.temporaryDirectory.appendingPathComponent("fetched-\(UUID().uuidString).wav").path
        defer { try? FileManager.default.removeItem(atPath: fetched) }
        let download = try ProcessRunner.run(
            "curl", ["-s", "--cacert", collector.caFile, "-o", fetched, "-H", "Authorization: Bearer \(token)", collector.url + path])
        #expect(download.status == 0)
        #expect(FileManager.default.contents(atPath: fetched) == FileManager.default.contents(atPath: wav), "the paced answer is the recording")
        try Self.expectAlive(collector, "after the slow readers")
    }

    /// A body sent a byte at a time never counts as progress: the connection is closed at the stall
    /// timeout (2 s here) instead of living as long as the trickle goes on.
    @Test func aTrickledBodyIsClosed() throws {
        let collector = try Self.start(arguments: ["--plain-http"])
        defer { collector.stop() }
        let socket = try Self.connect(port: UInt16(URL(string: collector.url)!.port!))
        defer { close(socket) }
        var noSignal: Int32 = 1
        setsockopt(socket, SOL_SOCKET, SO_KEEPALIVE, &noSignal, socklen_t(MemoryLayout<Int32>.size))
        let head = "POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 200000\r\n\r\n"
        _ = head.withCString { send(socket, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        var closed = false
        for _ in 0..<40 where !closed {
            Thread.sleep(forTimeInterval: 0.5)
            var byte: UInt8 = 0x7B
            if send(socket, &byte, 1, Int32(MSG_NOSIGNAL)) < 0 { closed = true }
            var probe = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            if poll(&probe, 1, 0) > 0 {
                var sink = [UInt8](repeating: 0, count: 4096)
                if recv(socket, &sink, sink.count, 0) <= 0 { closed = true }
            }
        }
        #expect(closed, "a 20 s trickle of single bytes kept the connection open")
        try Self.expectAliveOverHTTP(collector)
    }

    /// Two phone systems' uploads of 400 MB each, arriving slowly but steadily, hold the memory they
    /// announced, and nothing more: a third that large is told to come back, and an ordinary
    /// recording still goes in beside them.
    @Test func slowLargeVoiceUploadsDoNotKeepOrdinaryOnesOut() throws {
        let collector = try Self.start(arguments: ["--plain-http"])
        defer { collector.stop() }
        let added = try ProcessRunner.run(
            ProcessRunner.product("recorder-collector"),
            ["admin", "integration", "add", "pbx", "--data-dir", collector.dataDirectory])
        let token = String(added.stdout.split(separator: "\n").last ?? "")
        #expect(added.status == 0 && token.hasPrefix("rci_"), "\(added.stdout) \(added.stderr)")
        let port = UInt16(URL(string: collector.url)!.port!)
        let sending = Thread.Result<Bool>()
        let stop = Mutex(false)
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        for leg in 0..<2 {
            let socket = try Self.connect(port: port)
            sockets.append(socket)
            let head =
                "PUT /api/v1/voice/big-call/leg-\(leg) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nX-Voice-Start: 2026-12-01T10:00:00Z\r\nContent-Type: audio/wav\r\nContent-Length: \(400 << 20)\r\n\r\n"
            _ = head.withCString { send(socket, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        }
        // 64 KiB every 100 ms to each: well above every floor, far below the 400 MB.
        let fds = sockets
        Thread.detachNewThread {
            let chunk = [UInt8](repeating: 0, count: 64 << 10)
            while !stop.withLock({ $0 }) {
                for fd in fds { _ = chunk.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
                Thread.sleep(forTimeInterval: 0.1)
            }
            sending.set(true)
        }
        defer {
            stop.withLock { $0 = true }
            _ = sending.wait()
        }
        Thread.sleep(forTimeInterval: 1)
        let big = try Self.file(String(repeating: "x", count: 1000))
        let third = try Self.curl(
            collector, "PUT", "/api/v1/voice/big-call/leg-2", bodyFile: big,
            headers: [
                "Authorization: Bearer \(token)", "X-Voice-Start: 2026-12-01T10:00:00Z", "Content-Type: audio/wav",
                "Content-Length: \(400 << 20)",
            ], maxTime: 10)
        #expect(third.status == 503 && third.headers.lowercased().contains("retry-after:"), "\(third.status) \(third.body)")
        let speech = FileManager.default.temporaryDirectory.appendingPathComponent("ordinary-\(UUID().uuidString).wav").path
        let made = try ProcessRunner.run("sox", ["-n", "-r", "8000", "-c", "1", "-b", "16", speech, "synth", "2", "sine", "440"])
        #expect(made.status == 0, "\(made.stderr)")
        let ordinary = try Self.curl(
            collector, "PUT", "/api/v1/voice/small-call/leg-1", bodyFile: speech,
            headers: ["Authorization: Bearer \(token)", "X-Voice-Start: 2026-12-01T10:00:00Z", "Content-Type: audio/wav"])
        #expect(ordinary.status == 201, "\(ordinary.status) \(ordinary.body)")
    }

    static func expectAliveOverHTTP(_ collector: CollectorProcess) throws {
        let health = try ProcessRunner.run("curl", ["-s", "--interface", "127.0.0.2", collector.url + "/healthz"])
        #expect(health.stdout == "ok" && collector.isRunning)
    }

    @Test func wrongPasswordsAreThrottledAuditedAndDoNotStallAgents() throws {
        let collector = try Self.start()
        defer { collector.stop() }
        let password = try #require(collector.adminPassword)
        var statuses: [Int] = []
        for attempt in 0..<32 {
            let name = attempt == 0 ? #"evil\u001b]0;owned\u0007"# : "admin"
            let reply = try Self.curl(
                collector, "POST", "/api/v1/auth/login",
                body: #"{"username":"\#(name)","password":"wrong password \#(attempt)"}"#,
                headers: ["Content-Type: application/json"])
            statuses.append(reply.status)
            if reply.status == 429 {
                #expect(reply.headers.lowercased().contains("retry-after:"), "\(reply.headers)")
            }
        }
        #expect(statuses.prefix(30).allSatisfy { $0 == 401 }, "\(statuses)")
        #expect(statuses.suffix(2).allSatisfy { $0 == 429 }, "\(statuses)")
        let blocked = try Self.curl(
            collector, "POST", "/api/v1/auth/login", body: #"{"username":"admin","password":"\#(password)"}"#)
        #expect(blocked.status == 429, "the throttled address is refused even with the right password")
        let elsewhere = try Self.curl(
            collector, "POST", "/api/v1/auth/login", body: #"{"username":"admin","password":"\#(password)"}"#,
            source: "127.0.0.2")
        #expect(elsewhere.status == 200, "another address logs in: \(elsewhere.body)")

        for _ in 0..<31 {
            _ = try Self.curl(
                collector, "PROPFIND", "/dav/", headers: ["Depth: 0"], user: "admin:nope", source: "127.0.0.3")
        }
        let basic = try Self.curl(
            collector, "PROPFIND", "/dav/", headers: ["Depth: 0"], user: "admin:nope", source: "127.0.0.3")
        #expect(basic.status == 429, "\(basic.status)")
        for _ in 0..<31 {
            _ = try Self.curl(
                collector, "POST", "/api/v1/agents/enrol",
                body: #"{"code":"AAAA-BBBB-CCCC-DDDD","agent_id":"ws-x","signing_key":"\#(Self.publicKey)"}"#,
                source: "127.0.0.4")
        }
        let enrol = try Self.curl(
            collector, "POST", "/api/v1/agents/enrol",
            body: #"{"code":"AAAA-BBBB-CCCC-DDDD","agent_id":"ws-x","signing_key":"\#(Self.publicKey)"}"#,
            source: "127.0.0.4")
        #expect(enrol.status == 429, "\(enrol.status) \(enrol.body)")

        let audit = try ProcessRunner.run(
            ProcessRunner.product("recorder-collector"),
            ["admin", "audit", "--limit", "1000", "--data-dir", collector.dataDirectory])
        for action in ["user.login_failed", "store.basic_failed", "agent.enrol_failed", "auth.throttled"] {
            #expect(audit.stdout.contains(action), "\(action) is audited")
        }
        #expect(!audit.stdout.contains("\u{1b}"), "no escape sequence reaches the admin's terminal")
        #expect(audit.stdout.contains("\\u{1b}]0;owned"), "it is shown escaped")

        // A 200 KB user name is refused or stored cut short, never in full.
        let long = String(repeating: "n", count: 200_000)
        _ = try Self.curl(
            collector, "POST", "/api/v1/auth/login",
            bodyFile: try Self.file(#"{"username":"\#(long)","password":"x"}"#), source: "127.0.0.5")
        let after = try ProcessRunner.run(
            ProcessRunner.product("recorder-collector"),
            ["admin", "audit", "--limit", "1000", "--data-dir", collector.dataDirectory])
        #expect(after.stdout.utf8.count < audit.stdout.utf8.count + 4000, "the audit entry is bounded")
        try Self.expectAlive(collector, "after the password storm")
    }

    @Test func downloadsStreamWithBoundedMemory() throws {
        let collector = try Self.start()
        defer { collector.stop() }
        let admin = try Self.adminUser(collector)
        // A 300 MB object placed directly in the store (an admin's upload would take as long to send).
        let big = collector.dataDirectory + "/store/big.bin"
        #expect(FileManager.default.createFile(atPath: big, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: big))
        let chunk = Data(repeating: 0x5a, count: 1 << 20)
        for _ in 0..<300 { handle.write(chunk) }
        try handle.close()
        // Clients slower than the disk (10 MB/s each, for 4 s): a server that reads ahead of them holds
        // what they have not taken yet (whole-range reads: 900 MB); one that waits for them holds a few
        // chunks. The resident size is sampled while they read. (Fast readers make glibc's arenas swell
        // and keep 130–700 MB after the burst: retention, not data held for a client.)
        let downloads = (0..<3).map { _ in
            Thread.detachNewThreadWithResult {
                try? Self.curl(
                    collector, "GET", "/dav/big.bin", headers: [], user: admin, limitRate: "10M", maxTime: 4)
            }
        }
        var largest = 0
        for _ in 0..<12 {
            Thread.sleep(forTimeInterval: 0.25)
            largest = max(largest, collector.residentKB / 1024)
        }
        let answers = downloads.map { $0.wait() }
        #expect(answers.allSatisfy { $0?.status == 200 })
        #expect(largest < 250, "resident \(largest) MB while streaming 3 × 300 MB to slow readers")
        let ranged = try Self.curl(
            collector, "GET", "/dav/big.bin", headers: ["Range: bytes=104857600-104857609"], user: admin)
        #expect(ranged.status == 206 && ranged.body == "ZZZZZZZZZZ")
    }

    @Test func hiddenNamesAndLooseDataDirectoriesAreRefusedAndTightened() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("loose-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let collector = try CollectorProcess(dataDirectory: directory.path)
        defer { collector.stop() }
        let data = try FileManager.default.attributesOfItem(atPath: directory.path)
        #expect((data[.posixPermissions] as? Int) == 0o700)
        let catalog = try FileManager.default.attributesOfItem(atPath: directory.path + "/catalog.sqlite")
        #expect((catalog[.posixPermissions] as? Int) == 0o600)
        let admin = try Self.adminUser(collector)
        let temporary = try Self.curl(collector, "PUT", "/dav/.store-tmp-1234", body: "hidden", user: admin)
        #expect(temporary.status == 403, "\(temporary.body)")
    }

    // MARK: - helpers

    static let publicKey = Data(repeating: 7, count: 32).base64EncodedString()

    static func connect(port: UInt16) throws -> Int32 {
        let fd = RawConnection.open(port: port)
        guard fd >= 0 else { throw TestFailure("connect failed: \(String(cString: strerror(errno)))") }
        return fd
    }

    static func readsEndOfFile(_ fd: Int32) -> Bool { RawConnection.readsEndOfFile(fd) }

    static func treeBytes(_ path: String) -> Int {
        let enumerator = FileManager.default.enumerator(atPath: path)
        var total = 0
        while let name = enumerator?.nextObject() as? String {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + name)
            if attributes?[.type] as? FileAttributeType == .typeRegular { total += attributes?[.size] as? Int ?? 0 }
        }
        return total
    }
}

extension Thread {
    /// A result computed on a thread of its own (curl processes in parallel).
    final class Result<T: Sendable>: @unchecked Sendable {
        private var value: T?
        private let done = DispatchSemaphore(value: 0)
        func set(_ value: T) {
            self.value = value
            done.signal()
        }
        func wait() -> T {
            done.wait()
            return value!
        }
    }

    static func detachNewThreadWithResult<T: Sendable>(_ work: @escaping @Sendable () -> T) -> Result<T> {
        let result = Result<T>()
        Thread.detachNewThread { result.set(work()) }
        return result
    }
}
