import Foundation
import RecorderCore
import Testing

/// The call event contract (version 1): its bytes, and every hostile event refused with the field named.
struct CallEventTests {
    static let transfer = CallEvent(
        eventId: "connect-9f1c-0003", type: .legTransferred, occurredAt: "2026-11-23T12:04:10.125Z",
        interactionId: "6c1e3b1a-initial", legId: "6c1e3b1a-leg-1", relatedLegId: "77aa01-leg-2", agentId: "agent/ws-0042",
        direction: .inbound, ani: "+33 1 23 45 67 89", dnis: "+33 1 80 00 00 00", queue: "billing", reason: "blind transfer",
        sourceSequence: 3, attributes: ["campaign": "winter", "language": "fr"])

    @Test func theContractMatchesItsGoldenFile() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/call-event-v1.json")
        let bytes = try StrictJSON.encode(CallEventBatch(events: [Self.transfer]), pretty: true)
        if ProcessInfo.processInfo.environment["RECORD_GOLDEN"] == "1" { try bytes.write(to: url) }
        let golden = try Data(contentsOf: url)
        #expect(bytes == golden, "\(String(decoding: bytes, as: UTF8.self))")
        #expect(try StrictJSON.decode(CallEventBatch.self, from: golden).events == [Self.transfer])
    }

    static func event(_ fields: String) -> String {
        #"{"event_id":"e-1","type":"leg.started","occurred_at":"2026-11-23T12:00:00Z","interaction_id":"i-1","leg_id":"l-1""#
            + (fields.isEmpty ? "" : "," + fields) + "}"
    }

    @Test(arguments: [
        (#"{"event_id":"e-1","type":"leg.started""#, "not valid JSON"),
        (event(#""type":"leg.ended""#), #"the key "type" is given twice"#),
        (event(#""\u0074ype":"leg.ended""#), #"the key "type" is given twice"#),
        (#"{"type":"leg.started","occurred_at":"2026-11-23T12:00:00Z","interaction_id":"i","leg_id":"l"}"#, "event_id is required"),
        (#"{"event_id":"e","type":"leg.exploded","occurred_at":"2026-11-23T12:00:00Z"}"#, "type must be one of leg.started"),
        (#"{"event_id":"e","type":"leg.started","occurred_at":"2026-11-23T12:00:00Z","interaction_id":"i"}"#, "leg_id is required"),
        (#"{"event_id":"e","type":"leg.transferred","occurred_at":"2026-11-23T12:00:00Z","interaction_id":"i","leg_id":"l"}"#, "related_leg_id is required"),
        (event(#""agent_id":7"#), "agent_id must be a string, found 7"),
        (event(#""source_sequence":"3""#), "source_sequence must be a whole number"),
        (event(#""direction":"sideways""#), "direction must be one of inbound, outbound, internal"),
        (event(#""queue":"a\u0000b""#), "queue holds the control or invisible character U+0000"),
        (event(#""ani":"+33\u202E987""#), "ani holds the control or invisible character U+202E"),
        (event(#""reason":"line\nforged""#), "reason holds the control or invisible character U+000A"),
        (event(#""agent_id":"\#(String(repeating: "x", count: 300))""#), "agent_id is 300 characters long; at most 256"),
        (event(#""agent_id":"""#), "agent_id must not be empty"),
        (event(#""colour":"red""#), #"unknown key "colour""#),
        (event(#""attributes":{"a":1}"#), "attributes.a must be a string, found 1"),
    ])
    func hostileEventsAreRefusedNamingTheField(_ json: String, _ message: String) {
        #expect {
            try StrictJSON.decode(CallEvent.self, from: Data(json.utf8))
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test(arguments: [
        ("2026-11-23T12:00:00", "must be an RFC 3339 time with a zone"),
        ("2026-11-23", "must be an RFC 3339 time with a zone"),
        ("1970-01-01T00:00:00Z", "is in 1970"),
        ("2100-01-01T00:00:00Z", "is in 2100"),
        ("yesterday", "must be an RFC 3339 time"),
        ("2026-02-30T12:00:00Z", "must be an RFC 3339 time"),  // no such day
        ("2026-02-29T12:00:00Z", "must be an RFC 3339 time"),  // not a leap year
        ("2026-11-23T24:00:00Z", "must be an RFC 3339 time"),
        ("2026-11-23T12:00:00+25:00", "must be an RFC 3339 time"),
        ("2026-11-23T12:00:00+0100", "must be an RFC 3339 time"),
        ("\u{FF12}\u{FF10}\u{FF12}\u{FF16}-11-23T12:00:00Z", "must be an RFC 3339 time"),  // full-width digits
    ])
    func timesNeedAZoneAndAPlausibleYear(_ time: String, _ message: String) {
        let json = #"{"event_id":"e","type":"recording.paused","occurred_at":"\#(time)"}"#
        #expect {
            try StrictJSON.decode(CallEvent.self, from: Data(json.utf8))
        } throws: { error in
            "\(error)".contains("occurred_at") && "\(error)".contains(message)
        }
    }

    @Test func zonesOtherThanUTCAndFractionsAreTheSameInstant() throws {
        let local = try StrictJSON.decode(
            CallEvent.self, from: Data(#"{"event_id":"e","type":"recording.resumed","occurred_at":"2026-11-23T13:00:00.500+01:00"}"#.utf8))
        let utc = try #require(CallEvent.parseTime("2026-11-23T12:00:00.500Z"))
        #expect(local.occurred == utc)
        #expect(CallEvent.parseTime("2028-02-29T23:59:59.123-14:00") != nil, "a leap day, milliseconds, a far zone")
    }

    @Test func batchesAreBounded() throws {
        let many = "{\"events\":[" + Array(repeating: Self.event(""), count: 501).joined(separator: ",") + "]}"
        #expect {
            try StrictJSON.decode(CallEventBatch.self, from: Data(many.utf8))
        } throws: { error in
            "\(error)".contains("events must hold 1 to 500 events, found 501")
        }
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: StrictJSON.Invalid.self) { try StrictJSON.decode(CallEventBatch.self, from: Data(deep.utf8)) }
        // Foundation's decoder is quadratic in one object's keys: more than 1 024 are refused before it runs.
        let wide = "{" + (0..<1025).map { "\"k\($0)\":0" }.joined(separator: ",") + "}"
        #expect {
            try StrictJSON.decode(CallEventBatch.self, from: Data(wide.utf8))
        } throws: { error in
            "\(error)".contains("an object holds more than 1024 keys")
        }
        let huge = Data(count: 10 << 20)
        #expect {
            try StrictJSON.decode(CallEventBatch.self, from: huge)
        } throws: { error in
            "\(error)".contains("larger than")
        }
    }

    /// The hand-written parser gives Foundation's instant for every shape it accepts.
    @Test func parsedTimesAreFoundationsInstants() throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        for text in [
            "2026-11-23T12:00:00Z", "2026-11-23T12:00:00.250Z", "2026-11-23T12:00:00.5+01:00",
            "2000-01-01T00:00:00.001-14:00", "2024-02-29T23:59:59.999+14:00", "2099-12-31T23:59:59.12-00:30",
            "2026-03-01T00:00:00Z", "2100-01-01T00:00:00Z",
        ] {
            let expected = try #require(formatter.date(from: text) ?? plain.date(from: text), "\(text)")
            let parsed = try #require(CallEvent.parseTime(text), "\(text)")
            #expect(abs(parsed.timeIntervalSince(expected)) < 0.0005, "\(text): \(parsed) vs \(expected)")
        }
    }
}
