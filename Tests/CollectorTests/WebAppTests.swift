import CollectorCore
import CollectorHTTP
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import RecorderCore
import TestSupport
import TestTraits
import Testing

/// The web app in a real headless Chromium against a live collector: a QA user signs in through the
/// page, finds the call, opens the player, plays it and seeks. The screen (real VP8, red then green,
/// a PCI pause, then blue, sealed with the collector's recording key) follows the voice within 40 ms
/// as the page itself measures; the frame at a known moment shows the known colour (canvas
/// readback); the pause shows its placeholder. Another site's user cannot open the call by URL.
@Suite(.serialized, .realTime, .enabled(if: Browser.isAvailable, "needs chromium and chromium-driver (scripts/install-deps)"))
struct WebAppTests {
    static let start = "2026-12-01T10:00:00.000Z"

    /// A 4 s VP8 segment at 5 fps, a keyframe each second: `colours` for equal parts of it.
    static func segment(_ colours: [String], in directory: String, name: String) throws -> [UInt8] {
        var arguments = ["-v", "error"]
        for colour in colours {
            arguments += ["-f", "lavfi", "-i", "color=c=\(colour):s=320x240:r=5:d=\(4 / colours.count)"]
        }
        arguments += [
            "-filter_complex", "concat=n=\(colours.count):v=1", "-c:v", "libvpx", "-b:v", "300k", "-g", "5", "-auto-alt-ref", "0",
            "\(directory)/\(name).webm",
        ]
        try VoiceIngestTests.tool("ffmpeg", arguments)
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name).webm")))
    }

    /// Paris's call: a leg of 10 s at ws-a, paused for a card number from 4 s to 6 s; screen 0–4 s and
    /// 6–10 s; the voice for all 10 s.
    static func call(_ collector: Collector, directory: String, voice: [String]? = nil, secondMonitor: Bool = false) async throws {
        let (pbx, _) = try await collector.integrations.create(name: "pbx", kind: .webhook, by: adminActor)
        let agent = SimulatedAgent(id: "ws-a", nodePath: "/emea/paris", epoch: CallEvent.parseTime("2026-12-01T09:59:00Z")!)
        _ = try await agent.enrol(with: collector, actor: adminActor)
        _ = try await collector.agentIdentities.set(integration: "pbx", externalId: "agent-7", agentId: "ws-a", by: adminActor)
        func event(_ id: String, _ type: String, _ second: Int, extra: String = "") -> String {
            #"{"event_id":"\#(id)","type":"\#(type)","occurred_at":"2026-12-01T10:00:\#(String(format: "%02d", second)).000Z","interaction_id":"call-1","leg_id":"leg-1","agent_id":"agent-7"\#(extra)}"#
        }
        let events = [
            event("e1", "leg.started", 0, extra: #","direction":"inbound","ani":"+33140000000","dnis":"3000""#),
            event("e2", "recording.paused", 4, extra: #","reason":"card number""#), event("e3", "recording.resumed", 6),
            event("e4", "leg.ended", 10),
        ]
        _ = try await collector.callEvents.accept(
            Data(#"{"events":[\#(events.joined(separator: ","))]}"#.utf8), from: pbx, source: "test")
        let recipients = try await collector.recordingKeys.active().map { try SealingRecipient(certificatePEM: $0.certificatePEM) }
        // With a second monitor: DP-1 shows red, green, blue as always; HDMI-1 yellow for the first 4 s.
        var segments: [([String], String, String?)] = [(["red", "green"], "10:00:00", nil), (["blue"], "10:00:06", nil)]
        if secondMonitor { segments = segments.map { ($0.0, $0.1, "DP-1") } + [(["yellow"], "10:00:00", "HDMI-1")] }
        for (index, (colours, first, monitor)) in segments.enumerated() {
            let plain = try segment(colours, in: directory, name: "segment-\(index)")
            let sealed = try SegmentSealer.seal(plain, for: recipients)
            let made = try agent.nextSegment(callId: "call-1", sealed: Data(sealed)) {
                $0.legs = [CallLeg(interactionId: "call-1", legId: "leg-1")]
                $0.monitor = monitor
                $0.firstFrameTime = "2026-12-01T\(first).000Z"
                $0.durationMs = 4000
                $0.frameCount = 20
                $0.width = 320
                $0.height = 240
            }
            try agent.upload(made, to: collector)
            _ = try await collector.acceptManifest(made.manifestBytes, from: try await collector.agents.get("ws-a"), source: "test")
        }
        if let voice {
            _ = try VoiceIngestTests.tool("ffmpeg", voice + ["-y", "\(directory)/voice.wav"])
        } else {
            _ = try VoiceIngestTests.tool("sox", ["-n", "-r", "8000", "-c", "1", "-b", "16", "\(directory)/voice.wav", "synth", "10", "sine", "440", "vol", "0.3"])
        }
        _ = try await collector.ingestVoice(
            [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(directory)/voice.wav"))), contentType: "audio/wav",
            metadata: VoiceMetadata(interactionId: "call-1", legId: "leg-1", startedAt: start, agentId: "agent-7", channelLayout: [.mixed]),
            integration: "pbx", deliveredBy: "put")
        // What QA reviews with: categories and a form.
        _ = try await collector.reviewDefinitions.addCategory("complaint", description: "The caller complains", by: adminActor)
        _ = try await collector.reviewDefinitions.addCategory("training", description: "Good for training", by: adminActor)
        let form = try StrictJSON.decode(EvaluationForm.self, from: Data(ReviewTests.form.utf8))
        _ = try await collector.reviewDefinitions.addForm(form, by: adminActor)
        for (name, scope) in [("qa-paris", "/emea/paris"), ("qa-lyon", "/emea/lyon")] {
            try await collector.users.create(
                username: name, password: "correct horse battery", profile: .init(role: .qa, scopes: [scope]), by: adminActor)
        }
    }

    /// Signs in through the page's own form.
    static func signIn(_ browser: Browser, _ base: String, _ username: String) throws {
        try browser.go("\(base)/app/")
        try browser.wait(for: "document.querySelector('#sign-in')", "the sign-in form")
        try browser.run(
            """
            const form = document.querySelector('#sign-in');
            form.username.value = arguments[0]; form.password.value = arguments[1];
            form.requestSubmit();
            """, [username, "correct horse battery"])
        try browser.wait(for: "document.querySelector('#who') && !document.querySelector('#who').hidden", "signed in as \(username)")
    }

    /// The colour at the middle of the video's current frame, read back through a canvas.
    static let centreColour = """
        const video = [...document.querySelectorAll('video.screen')].find((v) => v.offsetParent !== null);
        if (!video || video.readyState < 2 || video.seeking) return null;
        const canvas = document.createElement('canvas');
        canvas.width = video.videoWidth; canvas.height = video.videoHeight;
        const context = canvas.getContext('2d');
        context.drawImage(video, 0, 0);
        const [r, g, b] = context.getImageData(canvas.width / 2, canvas.height / 2, 1, 1).data;
        return r > 150 && g < 90 && b < 90 ? 'red' : g > 90 && r < 90 && b < 90 ? 'green' : b > 150 && r < 90 && g < 90 ? 'blue' : `${r},${g},${b}`;
        """

    @Test func aQAUserFindsTheCallAndPlaysScreenAndVoiceInSync() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("webapp-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let collector = try await makeCollector(.sqlite)
        _ = try await collector.bootstrap()
        do {
            try await Self.call(collector, directory: directory)
            let application = try CollectorApplication.make(collector: collector, host: "127.0.0.1", port: 0, logger: Logger(label: "test"))
            try await application.test(.live) { client in
                let base = "http://localhost:\(try #require(client.port))"
                try await Self.drive(base: base, collector: collector, shots: ProcessInfo.processInfo.environment["WEBAPP_SCREENSHOTS"])
            }
        } catch {
            await collector.close()
            throw error
        }
        await collector.close()
    }

    /// What a person does, in the browser. WebDriver calls block, so they run on a thread of their own:
    /// the server's handlers need every thread of the concurrency pool.
    static func drive(base: String, collector: Collector, shots: String?) async throws {
        let seen = try await withCheckedThrowingContinuation { (done: CheckedContinuation<Observed, any Error>) in
            Thread.detachNewThread {
                do {
                    done.resume(returning: try Self.browse(base: base, shots: shots))
                } catch {
                    done.resume(throwing: error)
                }
            }
        }
        #expect(seen.placeholder?.contains("Recording paused (card number)") == true, "\(seen.placeholder ?? "none")")
        #expect(seen.framesHiddenInPause, "no frame left standing during the pause")
        #expect(abs((seen.pauseBandAt ?? -1) - 40) < 1, "the pause (4–6 s of 10 s) drawn at \(String(describing: seen.pauseBandAt)) %")
        for (rate, drifts) in [("1×", seen.drifts), ("1.5×", seen.fastDrifts)] {
            #expect(drifts.count >= 10, "too few measurements at \(rate): \(drifts)")
            let worst = drifts.max() ?? .infinity
            #expect(worst <= 0.040, "screen and voice apart by \(Int(worst * 1000)) ms at \(rate): \(drifts.map { Int($0 * 1000) })")
        }
        #expect(seen.filmstrip == ["ws-a#2", "blue", "false"], "the thumbnail at 7.5 s: \(seen.filmstrip)")
        #expect(seen.noteMarks == 1, "one note, one mark on the bar: \(String(describing: seen.noteMarks))")
        #expect(abs((seen.afterNoteClick ?? 0) - 3) < 0.1, "clicking the note went to \(String(describing: seen.afterNoteClick)) s")
        #expect(seen.score == "73 %", "\(String(describing: seen.score))")
        #expect(
            seen.export.count == 3 && seen.export[0] == "200" && seen.export[1].hasPrefix("attachment; filename=\"call-1_")
                && (Int(seen.export[2]) ?? 0) > 10_000, "\(seen.export)")
        #expect(seen.otherSiteStatus == 404, "another site's QA user opened the call: \(String(describing: seen.otherSiteStatus))")
        let actions = try await AuditLog.entries(limit: 100, in: collector.catalog.sql).map(\.action)
        for action in ["call.view", "call.play", "note.add", "call.categorize", "call.evaluate", "call.export"] {
            #expect(actions.contains(action), "\(action) in \(actions)")
        }
    }

    /// What the page showed and measured.
    struct Observed: Sendable {
        var placeholder: String?
        var framesHiddenInPause = false
        var drifts: [Double] = []
        var fastDrifts: [Double] = []
        var otherSiteStatus: Int?
        /// Where the pause's band sits on the bar, in % of its width, as laid out.
        var pauseBandAt: Double?
        /// The hover thumbnail's segment, colour and whether it was hidden.
        var filmstrip: [String] = []
        var noteMarks: Int?
        var afterNoteClick: Double?
        var score: String?
        /// The export's status, Content-Disposition and size, as the page fetched it.
        var export: [String] = []
    }

    /// A note at 3 s through the form, found again by clicking it; a category; an evaluation; the
    /// export's download; and the call found by what was added.
    static func review(_ browser: Browser, _ seen: inout Observed) throws {
        try browser.run("window.player.seek(3);")
        try browser.run(
            """
            const form = document.querySelector('#note-form');
            form.text.value = 'Caller asks for a refund';
            form.requestSubmit();
            """)
        try browser.wait(for: "document.querySelector('#notes .note-text')?.textContent === 'Caller asks for a refund'", "the note listed")
        seen.noteMarks = (try browser.run("return document.querySelectorAll('.track .note-mark').length;") as? NSNumber)?.intValue
        try browser.run("window.player.seek(8); document.querySelector('#notes .note-at').click();")
        seen.afterNoteClick = (try browser.run("return window.player.state().t;") as? NSNumber)?.doubleValue
        try browser.run("document.querySelector('#categories input[value=\"complaint\"]').click();")
        try browser.wait(for: "document.querySelector('#categories .chip.on')?.textContent.includes('complaint')", "the category on")
        try browser.run(
            """
            for (const [name, value] of [['q-greeting', 'yes'], ['q-resolution', '3'], ['q-upsell', 'n/a']])
              document.querySelector(`input[name="${name}"][value="${value}"]`).click();
            document.querySelector('#evaluation-form').requestSubmit();
            """)
        try browser.wait(for: "document.querySelector('#evaluations .score')", "the evaluation listed")
        seen.score = try browser.run("return document.querySelector('#evaluations .score').textContent;") as? String
        let export = try browser.runAsync(
            """
            const done = arguments[arguments.length - 1];
            fetch(document.querySelector('#export').href).then(async (r) =>
              done([r.status, r.headers.get('content-disposition'), (await r.arrayBuffer()).byteLength]));
            """) as? [Any] ?? []
        seen.export = export.map { "\($0)" }
        try browser.run("location.hash = '#/calls?has_notes=true&category=complaint&text=refund&score=70..80';")
        try browser.wait(for: "document.querySelector('#calls a.call-link')", "the call found by its note, category and score")
        try browser.run("history.back();")
        try browser.wait(for: "window.player && window.player.state()", "the player again")
    }

    static func browse(base: String, shots: String?) throws -> Observed {
        var seen = Observed()
        do {
            let browser = try Browser()
            defer { browser.stop() }
            try Self.signIn(browser, base, "qa-paris")
            try browser.wait(for: "document.querySelector('#calls a.call-link')", "the call in the list")
            // The search form: a caller's prefix that is not this call's finds nothing; its own finds it.
            func search(_ fields: [String: String]) throws {
                try browser.run(
                    """
                    const form = document.querySelector('#search');
                    for (const [name, value] of Object.entries(arguments[0])) form[name].value = value;
                    form.requestSubmit();
                    """, [fields])
            }
            try search(["ani": "+44*", "duration": ">5"])
            try browser.wait(for: "document.querySelector('.empty')", "no call from +44")
            try search(["ani": "+33*", "duration": "5..20", "has_screen": "true"])
            try browser.wait(for: "document.querySelector('#calls a.call-link')", "the call from +33, 10 s long, with screen")
            if let shots { try browser.screenshot(to: "\(shots)/web-calls.png") }
            try browser.run("document.querySelector('#calls a.call-link').click();")
            try browser.wait(for: "window.player && window.player.state()", "the player")

            seen.pauseBandAt = (try browser.run(
                """
                const band = document.querySelector('.band-pause'); const track = document.querySelector('.track');
                return band ? (band.getBoundingClientRect().left - track.getBoundingClientRect().left) / track.getBoundingClientRect().width * 100 : null;
                """) as? NSNumber)?.doubleValue
            // A frame at a known moment shows the known colour; the pause shows its placeholder.
            for (second, expected) in [(1.0, "red"), (3.0, "green"), (7.5, "blue")] {
                // The moment after a seek into another segment: its frame is not there yet, and the
                // last segment's frame must not stand in for it (hidden, not reported as this moment's).
                // For blue, the next segment is not preloaded (as when its preload has not finished).
                let stale = try browser.run(
                    """
                    const lane = window.player.lanes[0];
                    if (arguments[1]) { const spare = lane.videos[1 - lane.front]; spare.removeAttribute('src'); spare.load(); delete spare.dataset.url; }
                    window.player.seek(arguments[0]);
                    const s = window.player.state();
                    return s.video === null || Math.abs(s.video - s.t) < 0.1;
                    """, [second, expected == "blue"]) as? Bool
                #expect(stale == true, "right after seeking to \(second) s, a frame of another moment was shown as this one")
                try browser.wait(
                    for: "(() => { \(Self.centreColour) })() === '\(expected)' && window.player.state().placeholder === null",
                    seconds: 15, "\(expected) at \(second) s, with nothing over it")
            }
            // Hovering the bar at 75 % (7.5 s) shows that moment's screen above it: the blue segment.
            let film = try browser.runAsync(
                """
                const done = arguments[arguments.length - 1];
                const track = document.querySelector('.track'); const box = track.getBoundingClientRect();
                track.dispatchEvent(new MouseEvent('mousemove', { clientX: box.left + box.width * 0.75, clientY: box.top + 5, bubbles: true }));
                const check = () => {
                  const tip = document.querySelector('#filmstrip');
                  if (!tip.dataset.segment) return setTimeout(check, 100);
                  const [r, g, b] = tip.querySelector('canvas').getContext('2d').getImageData(96, 54, 1, 1).data;
                  done([tip.dataset.segment, r > 150 && g < 90 ? 'red' : b > 150 && r < 90 ? 'blue' : `${r},${g},${b}`, String(tip.hidden)]);
                };
                check();
                """) as? [Any] ?? []
            seen.filmstrip = film.map { "\($0)" }
            try browser.run("document.querySelector('.track').dispatchEvent(new MouseEvent('mouseleave'));")
            try browser.run("window.player.seek(5);")
            try browser.wait(for: "window.player.state().placeholder !== null", "the pause's placeholder")
            seen.placeholder = try browser.run("return window.player.state().placeholder;") as? String
            seen.framesHiddenInPause =
                try browser.run("return [...document.querySelectorAll('video.screen')].every((v) => v.offsetParent === null);") as? Bool == true

            // Playing: the page measures screen against voice, many times, at 1× and at 1.5×.
            try browser.run("window.player.seek(0.5); window.player.play();")
            try browser.wait(for: "window.player.state().t > 1.2 && window.player.state().video !== null", "playing")
            if let shots { try browser.screenshot(to: "\(shots)/web-player.png") }
            func drifts(samples: Int) throws -> [Double] { try browser.playerDrifts(count: samples, every: 50) }
            seen.drifts = try drifts(samples: 30)
            try browser.run("window.player.setRate(1.5); window.player.seek(7);")
            try browser.wait(for: "window.player.state().t > 7.4 && window.player.state().video !== null", "playing at 1.5×")
            seen.fastDrifts = try drifts(samples: 20)
            try browser.run("window.player.pause();")
            try Self.review(browser, &seen)
            if let shots {
                try browser.run("window.player.seek(7.5); document.querySelector('#review').scrollIntoView();")
                try browser.wait(for: "(() => { \(Self.centreColour) })() === 'blue'", "blue before the review screenshot")
                try browser.screenshot(to: "\(shots)/web-review.png")
            }

            // Another site's QA user: the call is not in the list, and its URL opens nothing.
            try browser.run("document.querySelector('#sign-out').click();")
            try browser.wait(for: "document.querySelector('#sign-in')", "signed out")
            try Self.signIn(browser, base, "qa-lyon")
            try browser.wait(for: "document.querySelector('.empty')", "an empty list")
            let status = try browser.runAsync(
                "const done = arguments[arguments.length - 1]; fetch('/api/v1/calls/call-1/timeline').then((r) => done(r.status));")
            seen.otherSiteStatus = (status as? NSNumber)?.intValue
        }
        return seen
    }

    /// The admin pages in the browser: the storage test, an enrolment code shown once, a category added
    /// through the form, the audit chain verified; a QA user sees no admin link and gets 403 from the API.
    @Test func anAdminRunsTheCollectorFromItsPages() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("webadmin-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let collector = try await makeCollector(.sqlite)
        let password = try #require(try await collector.bootstrap()?.password)
        do {
            // The voice silent but for a tone from 3 s to 4 s: the QA user's "skip idle" jumps 0.5 → 3 s.
            try await Self.call(collector, directory: directory, voice: ExportTests.voice, secondMonitor: true)
            let application = try CollectorApplication.make(collector: collector, host: "127.0.0.1", port: 0, logger: Logger(label: "test"))
            try await application.test(.live) { client in
                let base = "http://localhost:\(try #require(client.port))"
                let shots = ProcessInfo.processInfo.environment["WEBAPP_SCREENSHOTS"]
                let seen = try await withCheckedThrowingContinuation { (done: CheckedContinuation<[String: String], any Error>) in
                    Thread.detachNewThread {
                        done.resume(with: Result { try Self.administer(base: base, password: password, shots: shots) })
                    }
                }
                #expect(seen["storage"]?.contains("builtin: works") == true, "\(seen)")
                #expect(seen["code"]?.hasPrefix("Code ") == true && seen["code"]?.contains(" for /,") == true, "\(seen)")
                #expect(seen["category"] == "escalation", "\(seen)")
                #expect(seen["audit"]?.hasPrefix("The chain holds") == true, "\(seen)")
                #expect(seen["qa-link-hidden"] == "true" && seen["qa-admin-api"] == "403", "\(seen)")
                #expect(seen["lanes"] == "red,yellow", "all monitors: \(seen["lanes"] ?? "none")")
                let skipped = (seen["skipped"] ?? "").split(separator: ",").compactMap { Double($0) }
                #expect(skipped.count == 2 && skipped[0] < 1.5 && abs(skipped[1] - 3.0) <= 0.1, "skip idle: \(seen["skipped"] ?? "none")")
            }
        } catch {
            await collector.close()
            throw error
        }
        let actions = try await AuditLog.entries(limit: 100, in: collector.catalog.sql).map(\.action)
        #expect(actions.contains("category.create") && actions.contains("enrolment_code.create"), "\(actions)")
        await collector.close()
    }

    static func administer(base: String, password: String, shots: String?) throws -> [String: String] {
        var seen: [String: String] = [:]
        let browser = try Browser()
        defer { browser.stop() }
        try browser.go("\(base)/app/")
        try browser.wait(for: "document.querySelector('#sign-in')", "the sign-in form")
        try browser.run(
            "const f = document.querySelector('#sign-in'); f.username.value = 'admin'; f.password.value = arguments[0]; f.requestSubmit();",
            [password])
        try browser.wait(for: "!document.querySelector('#admin-link').hidden", "the admin link")
        try browser.run("document.querySelector('#admin-link').click();")
        try browser.wait(for: "document.querySelector('#agents')", "the agents page")
        try browser.run("location.hash = '#/admin/storage';")
        try browser.wait(for: "document.querySelector('#storage button')", "the storage page")
        try browser.run("document.querySelector('#storage button').click();")
        try browser.wait(for: "document.querySelector('#storage-test h2')", seconds: 30, "the storage test's report")
        seen["storage"] = try browser.run("return document.querySelector('#storage-test h2').textContent;") as? String
        if let shots { try browser.screenshot(to: "\(shots)/web-admin.png") }
        try browser.run("location.hash = '#/admin/enrolment';")
        try browser.wait(for: "document.querySelector('#enrolment-form')", "the enrolment page")
        try browser.run(
            """
            const f = document.querySelector('#enrolment-form');
            f.node_path.value = '/'; f.requestSubmit();
            """)
        try browser.wait(for: "document.querySelector('#enrolment-form .message.ok')", "the code")
        seen["code"] = try browser.run("return document.querySelector('#enrolment-form .message').textContent;") as? String
        try browser.run("location.hash = '#/admin/review';")
        try browser.wait(for: "document.querySelector('#category-form')", "the review page")
        try browser.run(
            """
            const f = document.querySelector('#category-form');
            f.name.value = 'escalation'; f.description.value = 'Passed to a manager'; f.requestSubmit();
            """)
        try browser.wait(for: "[...document.querySelectorAll('#categories td')].some((td) => td.textContent === 'escalation')", "the new category")
        seen["category"] = "escalation"
        try browser.run("location.hash = '#/admin/audit';")
        try browser.wait(for: "document.querySelector('#audit-verify')", "the audit page")
        try browser.run("document.querySelector('#audit-verify').click();")
        try browser.wait(for: "document.querySelector('#audit-verdict p')?.textContent.startsWith('The chain')", "the verdict")
        seen["audit"] = try browser.run("return document.querySelector('#audit-verdict p').textContent;") as? String
        try browser.run("document.querySelector('#sign-out').click();")
        try browser.wait(for: "document.querySelector('#sign-in')", "signed out")
        try Self.signIn(browser, base, "qa-paris")
        seen["qa-link-hidden"] = String(describing: try browser.run("return document.querySelector('#admin-link').hidden;") as? Bool ?? false)
        let status = try browser.runAsync(
            "const done = arguments[arguments.length - 1]; fetch('/api/v1/admin/agents').then((r) => done(r.status));")
        seen["qa-admin-api"] = (status as? NSNumber).map { "\($0.intValue)" }
        // Skip idle: playing from 0.5 s, the silent, still stretch up to 3 s is jumped over.
        try browser.run("document.querySelector('#calls a.call-link').click();")
        try browser.wait(for: "window.player && window.player.state()", "the player")
        try browser.run("document.querySelector('#skip-idle').click();")
        try browser.wait(for: "document.querySelectorAll('.band-idle').length === 2", "the idle stretches on the bar")
        try browser.run("window.player.seek(0.5); window.player.play();")
        try browser.wait(for: "window.player.state().skipped.length > 0", "a skip")
        let skip = try browser.run("const s = window.player.state().skipped[0]; window.player.pause(); return [s.from, s.to];") as? [Any] ?? []
        seen["skipped"] = skip.compactMap { ($0 as? NSNumber)?.doubleValue }.map { String($0) }.joined(separator: ",")
        // All monitors at once: two lanes, each its own monitor's screen at 1 s (red on DP-1, yellow on HDMI-1).
        try browser.run("const m = document.querySelector('#monitor'); m.value = '*'; m.dispatchEvent(new Event('change')); window.player.seek(1);")
        let lanes = """
            return [...document.querySelectorAll('.lane')].map((lane) => {
              const video = [...lane.querySelectorAll('video.screen')].find((v) => v.offsetParent !== null);
              if (!video || video.readyState < 2 || video.seeking) return 'none';
              const canvas = document.createElement('canvas');
              canvas.width = video.videoWidth; canvas.height = video.videoHeight;
              const context = canvas.getContext('2d');
              context.drawImage(video, 0, 0);
              const [r, g, b] = context.getImageData(canvas.width / 2, canvas.height / 2, 1, 1).data;
              return r > 150 && g > 150 && b < 90 ? 'yellow' : r > 150 && g < 90 ? 'red' : `${r},${g},${b}`;
            }).join(',');
            """
        try browser.wait(for: "(() => { \(lanes) })() === 'red,yellow'", seconds: 15, "red and yellow side by side")
        seen["lanes"] = try browser.run(lanes) as? String
        if let shots { try browser.screenshot(to: "\(shots)/web-monitors.png") }
        return seen
    }
}
