import Foundation
import RecorderCore
import Testing

/// Every document that crosses the wire between agent and collector, as bytes: a known value encodes
/// to its golden file, and the golden file decodes (strictly) back to it. A change to a contract shows
/// up here as a diff of the golden file, to be made on purpose (and versioned) or not at all.
/// `RECORD_GOLDEN=1 swift test --filter ContractTests` rewrites them.
struct ContractTests {
    static let configuration = AgentConfigurationDocument(
        agentId: "ws-0042", nodePath: "/emea/paris/sales", storageTarget: "paris-dav",
        storage: .init(
            url: "https://dav.paris.example/recordings", auth: .digest, username: "ws-0042", password: "s3cret",
            caPEM: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
        recipientCertificatesPEM: ["-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n"],
        recordingRules: {
            var rules = RecordingRules()
            rules.excludeQueues = ["card-payments"]
            rules.framesPerSecond = 5
            rules.postRollSeconds = 20
            return rules
        }())

    static let heartbeat: AgentHeartbeat = {
        var report = AgentHeartbeat(
            sentAt: Date(timeIntervalSince1970: 1_795_435_200.25), roundTripMs: 18, state: .recording,
            spoolSegments: 3, spoolBytes: 1_572_864, lastError: "PUT https://dav.paris.example/x: HTTP 507",
            lastErrorAt: "2026-11-23T12:00:00.000Z")
        report.agentVersion = "0.1.0"
        return report
    }()

    func check<T: Codable & Equatable>(_ value: T, _ name: String) throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name)")
        let bytes = try StrictJSON.encode(value, pretty: true)
        if ProcessInfo.processInfo.environment["RECORD_GOLDEN"] == "1" { try bytes.write(to: url) }
        let golden = try Data(contentsOf: url)
        #expect(bytes == golden, "\(name): the encoding changed:\n\(String(decoding: bytes, as: UTF8.self))")
        #expect(try StrictJSON.decode(T.self, from: golden) == value, "\(name) decodes back to the value")
    }

    @Test func everyWireDocumentMatchesItsGoldenFile() throws {
        try check(Self.configuration, "agent-configuration-v1.json")
        try check(
            EnrolmentRequest(
                code: "K7QM-2XWP-9RTA-HC4N", agentId: "ws-0042", hostname: "ws-0042.paris.example",
                signingKey: "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE="),
            "enrolment-request-v1.json")
        try check(
            EnrolmentResponse(agentToken: "rca_0123456789abcdef", configuration: Self.configuration),
            "enrolment-response-v1.json")
        try check(
            EnrolmentRecord(collectorURL: "https://collector.example:8443", agentToken: "rca_0123456789abcdef"),
            "enrolment-record-v1.json")
        try check(Self.heartbeat, "heartbeat-v1.json")
        try check(HeartbeatAnswer(receivedAt: "2026-11-23T12:00:00.231Z", clockOffsetMs: 12), "heartbeat-answer-v1.json")
    }

    /// What admins send for a node path's rules is bounded field by field, and a child node path's
    /// fields are laid over its parent's.
    @Test func recordingRuleOverridesAreCheckedAndInherited() throws {
        for (json, message) in [
            (#"{"fps":0}"#, "fps must be from 1 to 30, found 0"),
            (#"{"bitrate_kbps":1000000}"#, "bitrate_kbps must be from 50 to 20000"),
            (#"{"post_roll_seconds":-1}"#, "post_roll_seconds must be from 0 to 3600"),
            (#"{"exclude_queues":["a\u202Eb"]}"#, "exclude_queues queue names are 1 to 256 visible characters"),
            (#"{"include_queues":[""]}"#, "include_queues queue names are 1 to 256 visible characters"),
            (#"{"record_always":"yes"}"#, "record_always must be true or false"),
            (#"{"fps":5,"fsp":5}"#, #"unknown key "fsp""#),
        ] {
            #expect {
                try StrictJSON.decode(RecordingRulesOverride.self, from: Data(json.utf8))
            } throws: { error in
                "\(error)".contains(message)
            }
        }
        let parent = try StrictJSON.decode(RecordingRulesOverride.self, from: Data(#"{"fps":5,"exclude_queues":["vip"]}"#.utf8))
        let child = RecordingRulesOverride(excludeQueues: [], postRollSeconds: 5)
        let rules = child.applied(to: parent.applied(to: RecordingRules()))
        #expect(rules.framesPerSecond == 5 && rules.excludeQueues.isEmpty && rules.postRollSeconds == 5)
        #expect(rules.records(queue: "vip") && rules.records(queue: nil))
        var only = RecordingRules()
        only.includeQueues = ["sales"]
        #expect(only.records(queue: "sales") && !only.records(queue: "billing") && !only.records(queue: nil))
        only.excludeQueues = ["sales"]
        #expect(!only.records(queue: "sales"), "exclusion wins")
    }

    @Test func theStrictDecoderNamesTheKeyAndTheProblem() throws {
        let cases: [(String, String)] = [
            (#"{"agent_id":"a","node_path":"/","storage_target":"b","storage":{"url":"u","auth":"none","verify":false},"recipient_certificates_pem":[],"version":1}"#,
             #"unknown key "storage.verify"; known keys here: auth, bearer_token, ca_pem, password, url, username"#),
            (#"{"agent_id":"a","node_path":"/","storage_target":"b","storage":{"url":"u","auth":"ntlm"},"recipient_certificates_pem":[],"version":1}"#,
             #"storage.auth must be one of"#),
            (#"{"agent_id":7,"node_path":"/","storage_target":"b","storage":{"url":"u","auth":"none"},"recipient_certificates_pem":[],"version":1}"#,
             "agent_id must be a string, found 7"),
            (#"{"node_path":"/","storage_target":"b","storage":{"url":"u","auth":"none"},"recipient_certificates_pem":[],"version":1}"#,
             "agent_id is required"),
            (#"{"agent_id":"a","node_path":"/","storage_target":"b","storage":{"url":"u","auth":"none"},"recipient_certificates_pem":["x",3],"version":1}"#,
             "recipient_certificates_pem[1] must be a string, found 3"),
            (#"{"agent_id":"a","node_path":"/","storage_target":"b","storage":{"url":"u","auth":"none"},"recipient_certificates_pem":[],"version":2}"#,
             "version 2 is not supported"),
            (#"[1]"#, "the top level must be an object, found a list"),
            (#"{"#, "not valid JSON"),
        ]
        for (json, message) in cases {
            #expect {
                try StrictJSON.decode(AgentConfigurationDocument.self, from: Data(json.utf8))
            } throws: { error in
                "\(error)".contains(message)
            }
        }
        let heartbeat = #"{"agent_version":"1","sent_at":"x","state":"idle","spool_segments":1.5,"spool_bytes":0}"#
        #expect(throws: StrictJSON.Invalid(path: "spool_segments", message: "spool_segments must be a whole number, found 1.5")) {
            try StrictJSON.decode(AgentHeartbeat.self, from: Data(heartbeat.utf8))
        }
        let flag = #"{"agent_version":"1","sent_at":"x","state":true,"spool_segments":1,"spool_bytes":0}"#
        #expect(throws: StrictJSON.Invalid.self) { try StrictJSON.decode(AgentHeartbeat.self, from: Data(flag.utf8)) }
    }

    @Test func whatAnAgentReceivesMayGrowWithinAVersion() throws {
        let newer = #"{"agent_token":"t","configuration":{"agent_id":"a","node_path":"/","storage_target":"b","storage":{"url":"u","auth":"agent_token","push":true},"recipient_certificates_pem":["p"],"version":1,"recording":{}}}"#
        let answer = try StrictJSON.decode(EnrolmentResponse.self, from: Data(newer.utf8), unknownKeys: .ignore)
        #expect(answer.configuration.storage.auth == .agentToken)
        #expect(throws: StrictJSON.Invalid.self, "refused where strictness is asked for") {
            try StrictJSON.decode(EnrolmentResponse.self, from: Data(newer.utf8))
        }
    }
}
