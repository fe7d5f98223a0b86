import Foundation
import RecorderAgent
import RecorderCore
import StorageClient
import Testing

struct AgentConfigurationTests {
    func parse(_ json: String) throws -> AgentConfiguration {
        try AgentConfiguration.parse(Data(json.utf8), path: "agent.json")
    }

    @Test func theShippedExampleIsValid() throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Agent/agent.example.json")
        let configuration = try AgentConfiguration.load(path: example.path)
        #expect(configuration.display == ":0")
        #expect(configuration.recording == RecordingSettings())
    }

    @Test func readsEveryKey() throws {
        let configuration = try parse(
            """
            {"version":1,"display":":5","agent_id":"ws-7","node_path":"/emea/paris","state_directory":"/tmp/s",
            "output_directory":"/tmp/x","recipient_certificates":["/etc/a.pem","/etc/b.pem"],"recording":{"fps":2.5,"bitrate_kbps":150,
            "cpu_used":12,"segment_seconds":30,"keyframe_interval_seconds":10,"monitor":"DP-1","draw_cursor":false,
            "force_xgetimage":true}}
            """)
        #expect(configuration.display == ":5")
        #expect(configuration.outputDirectory == "/tmp/x")
        #expect(configuration.agentId == "ws-7")
        #expect(configuration.nodePath == "/emea/paris")
        #expect(configuration.stateDirectory == "/tmp/s")
        #expect(configuration.recipientCertificates == ["/etc/a.pem", "/etc/b.pem"])
        #expect(configuration.recording.framesPerSecond == 2.5)
        #expect(configuration.recording.bitrateKbps == 150)
        #expect(configuration.recording.cpuUsed == 12)
        #expect(configuration.recording.segmentSeconds == 30)
        #expect(configuration.recording.keyframeIntervalSeconds == 10)
        #expect(configuration.recording.monitor == "DP-1")
        #expect(configuration.recording.drawCursor == false)
        #expect(configuration.recording.forceXGetImage == true)
    }

    /// What `enroll` writes is what `record` reads: every field survives the file.
    @Test func theWrittenFileReadsBackTheSame() throws {
        var configuration = AgentConfiguration()
        configuration.agentId = "ws-9"
        configuration.nodePath = "/emea"
        configuration.stateDirectory = "/tmp/state"
        configuration.outputDirectory = "/tmp/state/spool"
        configuration.recipientCertificates = ["/tmp/state/recipients/recording-key-1.pem"]
        configuration.spool = SpoolLimits(maxBytes: 64 << 20, minFreeBytes: 0)
        var storage = StorageTarget(
            baseURL: "https://dav.example/r", credentials: .digest(user: "ws-9", password: "p"), caFile: "/tmp/ca.pem")
        storage.parallelUploads = 4
        storage.maxBytesPerSecond = 1 << 20
        configuration.storage = storage
        configuration.recording.framesPerSecond = 2
        configuration.recording.monitor = "DP-1"
        configuration.softphone = .init(kind: .baresip, control: "127.0.0.1:4444")
        #expect(try parse(String(decoding: try configuration.fileBytes(), as: UTF8.self)) == configuration)
    }

    @Test(arguments: [
        ("{\"recording\":{\"fsp\":5}}", "unknown key \"recording.fsp\""),
        ("{\"recording\":{\"fps\":\"5\"}}", "recording.fps must be a number"),
        ("{\"recording\":{\"fps\":0}}", "invalid setting fps"),
        ("{\"recording\":{\"draw_cursor\":1}}", "recording.draw_cursor must be true or false"),
        ("{\"recording\":{\"bitrate_kbps\":1.5}}", "recording.bitrate_kbps must be a whole number"),
        ("{\"version\":2}", "version 2 is not supported"),
        ("{\"storage\":{\"url\":\"http://dav.example\"}}", "storage.url must be an https:// URL"),
        (
            "{\"storage\":{\"url\":\"https://dav.example\",\"auth\":\"digest\"}}",
            "needs storage.username and storage.password"
        ),
        ("{\"storage\":{\"url\":\"https://dav.example\",\"auth\":\"ntlm\"}}", "storage.auth \"ntlm\" is not one of"),
        ("{\"storage\":{\"url\":\"https://dav.example\",\"verify_tls\":false}}", "unknown key \"storage.verify_tls\""),
        (
            "{\"storage\":{\"url\":\"https://dav.example\",\"parallel_uploads\":0}}",
            "storage.parallel_uploads must be between 1 and 8, found 0"
        ),
        (
            "{\"storage\":{\"url\":\"https://dav.example\",\"stall_timeout_seconds\":-5}}",
            "storage.stall_timeout_seconds must be between 1 and 3600"
        ),
        (
            "{\"storage\":{\"url\":\"https://dav.example\",\"max_bytes_per_second\":10}}",
            "storage.max_bytes_per_second must be at least 1024"
        ),
        ("{\"node_path\":\"/emea/../paris\"}", "node_path is refused: invalid node path \"/emea/../paris\": .. is not allowed"),
        ("{\"recipient_certificates\":\"/etc/a.pem\"}", #"recipient_certificates must be a list, found "/etc/a.pem""#),
        ("[1,2]", "the top level must be an object, found a list"),
        ("{\"display\":", "not valid JSON"),
        ("{\"softphone\":{\"kind\":\"pjsua\",\"control\":\"127.0.0.1:1\"}}", "softphone.kind must be one of baresip"),
        ("{\"softphone\":{\"kind\":\"baresip\",\"control\":\"10.0.0.5:4444\"}}", "only a loopback host"),
        ("{\"softphone\":{\"kind\":\"baresip\"}}", "softphone.control is required"),
    ])
    func badFilesNameTheProblem(_ json: String, _ message: String) {
        #expect {
            try parse(json)
        } throws: { error in
            "\(error)".contains(message) && "\(error)".hasPrefix("configuration agent.json:")
        }
    }
}
