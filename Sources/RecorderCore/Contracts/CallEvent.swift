import Foundation

/// One event of a call, as every way in delivers it (collector webhook, phone-system adapters, a
/// softphone on the workstation, the agent's local API): contract version 1, `docs/CTI-EVENTS.md`.
///
/// An *interaction* is the customer's call as a whole (Genesys `conversationId`, Amazon Connect
/// `initialContactId`, Asterisk `Linkedid`, a SIP Call-ID); a *leg* is one agent's part of it
/// (Genesys `participantId`, Connect `contactId`, Asterisk `Uniqueid`). Screen is recorded per agent per
/// leg and grouped by interaction, so a transfer or a consult never files a screen under the wrong call.
///
/// Everything here comes from outside: ids are bounded and free of control and invisible characters,
/// times carry their zone, attributes are bounded. Decoding refuses what breaks those rules with a
/// message naming the field (`StrictJSON`).
public struct CallEvent: Codable, Sendable, Equatable {
    public var version = 1
    /// Unique per source: the second delivery of an event is recognised by it and ignored.
    public var eventId: String
    public var type: CallEventType
    /// When it happened, on the source's clock (RFC 3339 with a zone).
    public var occurredAt: String
    /// When the collector (or the agent, for local events) received it; set by the receiver.
    public var receivedAt: String?
    /// The feed's own ordering number, where it has one (Genesys notifications do not; Asterisk does).
    public var sourceSequence: Int64?
    public var interactionId: String?
    public var legId: String?
    /// The other leg of a transfer, conference or consult.
    public var relatedLegId: String?
    /// The phone system's identity of the agent (Genesys userId, Connect agent ARN, an extension); the
    /// collector maps it to the workstation where that person is logged in now.
    public var agentId: String?
    public var direction: CallDirection?
    /// Calling and called numbers, as the feed gives them.
    public var ani: String?
    public var dnis: String?
    public var queue: String?
    /// Why a recording was paused or resumed, or a leg ended.
    public var reason: String?
    /// Anything else the feed says that QA may search by (at most 32, keys ≤ 64, values ≤ 1 024).
    public var attributes: [String: String]

    public init(
        eventId: String, type: CallEventType, occurredAt: String, interactionId: String? = nil, legId: String? = nil,
        relatedLegId: String? = nil, agentId: String? = nil, direction: CallDirection? = nil, ani: String? = nil,
        dnis: String? = nil, queue: String? = nil, reason: String? = nil, sourceSequence: Int64? = nil,
        attributes: [String: String] = [:]
    ) {
        self.eventId = eventId
        self.type = type
        self.occurredAt = occurredAt
        self.interactionId = interactionId
        self.legId = legId
        self.relatedLegId = relatedLegId
        self.agentId = agentId
        self.direction = direction
        self.ani = ani
        self.dnis = dnis
        self.queue = queue
        self.reason = reason
        self.sourceSequence = sourceSequence
        self.attributes = attributes
    }

    enum CodingKeys: String, CodingKey {
        case version, type, direction, ani, dnis, queue, reason, attributes
        case eventId = "event_id"
        case occurredAt = "occurred_at"
        case receivedAt = "received_at"
        case sourceSequence = "source_sequence"
        case interactionId = "interaction_id"
        case legId = "leg_id"
        case relatedLegId = "related_leg_id"
        case agentId = "agent_id"
    }

    static let maxIdLength = 256
    static let maxTextLength = 256
    static let maxAttributes = 32

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.contractVersion(.version, required: false)
        func id(_ key: CodingKeys) throws -> String? {
            try container.decodeIfPresent(String.self, forKey: key).map {
                try CallEvent.checked($0, key, container, limit: CallEvent.maxIdLength)
            }
        }
        func text(_ key: CodingKeys) throws -> String? {
            try container.decodeIfPresent(String.self, forKey: key).map {
                try CallEvent.checked($0, key, container, limit: CallEvent.maxTextLength)
            }
        }
        eventId = try CallEvent.checked(
            try container.decode(String.self, forKey: .eventId), .eventId, container, limit: CallEvent.maxIdLength)
        type = try container.decode(CallEventType.self, forKey: .type)
        occurredAt = try CallEvent.time(try container.decode(String.self, forKey: .occurredAt), .occurredAt, container)
        receivedAt = try container.decodeIfPresent(String.self, forKey: .receivedAt).map {
            try CallEvent.time($0, .receivedAt, container)
        }
        sourceSequence = try container.decodeIfPresent(Int64.self, forKey: .sourceSequence)
        interactionId = try id(.interactionId)
        legId = try id(.legId)
        relatedLegId = try id(.relatedLegId)
        agentId = try id(.agentId)
        direction = try container.decodeIfPresent(CallDirection.self, forKey: .direction)
        ani = try text(.ani)
        dnis = try text(.dnis)
        queue = try text(.queue)
        reason = try text(.reason)
        let attributes = try container.decodeIfPresent([String: String].self, forKey: .attributes) ?? [:]
        guard attributes.count <= CallEvent.maxAttributes else {
            throw DecodingError.dataCorruptedError(
                forKey: .attributes, in: container,
                debugDescription: "may hold at most \(CallEvent.maxAttributes) entries, found \(attributes.count)")
        }
        for (key, value) in attributes {
            _ = try CallEvent.checked(key, .attributes, container, limit: 64)
            _ = try CallEvent.checked(value, .attributes, container, limit: 1024)
        }
        self.attributes = attributes
        for key in type.requiredKeys {
            let present: Bool =
                switch key {
                case .interactionId: interactionId != nil
                case .legId: legId != nil
                case .relatedLegId: relatedLegId != nil
                default: true
                }
            guard present else {
                throw DecodingError.keyNotFound(
                    key, .init(codingPath: decoder.codingPath, debugDescription: "a \(type.rawValue) event needs it"))
            }
        }
    }

    /// An id or text field: 1 to `limit` characters, none of them control or invisible (NUL, newlines,
    /// bidi overrides: they would forge log lines or reorder what QA reads).
    static func checked(_ value: String, _ key: CodingKeys, _ container: KeyedDecodingContainer<CodingKeys>, limit: Int)
        throws -> String
    {
        guard !value.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "must not be empty")
        }
        let count = value.unicodeScalars.count
        guard count <= limit else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container, debugDescription: "is \(count) characters long; at most \(limit)")
        }
        if let bad = value.unicodeScalars.first(where: OutsideText.isUnsafe) {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container,
                debugDescription: "holds the control or invisible character U+\(String(format: "%04X", bad.value))")
        }
        return value
    }

    /// RFC 3339 with an explicit zone (`Z` or `±hh:mm`), between 2000 and 2099: a time without a zone
    /// is ambiguous by hours, and one in 1970 or 2100 is a broken clock, not a call.
    static func time(_ value: String, _ key: CodingKeys, _ container: KeyedDecodingContainer<CodingKeys>) throws
        -> String
    {
        guard let date = CallEvent.parseTime(value) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container,
                debugDescription:
                    "must be an RFC 3339 time with a zone, e.g. 2026-11-23T12:00:00.250Z, found \"\(OutsideText.bounded(value, limit: 40))\"")
        }
        var time = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&time, &parts)
        let year = Int(parts.tm_year) + 1900
        guard (2000...2099).contains(year) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container, debugDescription: "is in \(year); a call happens between 2000 and 2099")
        }
        return value
    }

    /// The instant of an RFC 3339 time with a zone; nil for anything else.
    public static func parseTime(_ value: String) -> Date? {
        // The shape and every field's range are checked first, in ASCII digits only (Foundation's
        // formatter takes 2026-02-30 and +25:00); then the instant is plain arithmetic. Foundation's
        // ISO8601DateFormatter built an ICU formatter per call: 37 % of the collector's CPU when it
        // re-read a call's events, before this.
        let b = Array(value.utf8)
        guard b.count <= 40, isWellFormedTime(b) else { return nil }
        func digits(_ range: Range<Int>) -> Int {
            range.reduce(0) { $0 * 10 + Int(b[$1] - 0x30) }
        }
        var seconds = Double(
            daysSinceEpoch(year: digits(0..<4), month: digits(5..<7), day: digits(8..<10)) * 86_400 + digits(11..<13)
                * 3600 + digits(14..<16) * 60 + digits(17..<19))
        var i = 19
        if b[i] == UInt8(ascii: ".") {
            var scale = 0.1
            i += 1
            while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 {
                seconds += Double(b[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
        }
        if b[i] != UInt8(ascii: "Z") {
            let offset = digits((i + 1)..<(i + 3)) * 3600 + digits((i + 4)..<(i + 6)) * 60
            seconds -= Double(b[i] == UInt8(ascii: "+") ? offset : -offset)
        }
        // Milliseconds exactly: 0.1 + 0.05 in binary would land a hair off the written time.
        return Date(timeIntervalSince1970: (seconds * 1000).rounded() / 1000)
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// `YYYY-MM-DDTHH:MM:SS[.mmm](Z|±HH:MM)` (upper-case T and Z, at most millisecond digits: what
    /// the parser below reads) with a real day, hours 0–23, minutes and seconds 0–59, and a zone offset
    /// of at most 14 hours.
    static func isWellFormedTime(_ b: [UInt8]) -> Bool {
        func digits(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= b.count else { return nil }
            var value = 0
            for i in range {
                guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }
                value = value * 10 + Int(b[i] - 0x30)
            }
            return value
        }
        guard b.count >= 20, let year = digits(0..<4), let month = digits(5..<7), let day = digits(8..<10),
            let hour = digits(11..<13), let minute = digits(14..<16), let second = digits(17..<19),
            b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"), (1...12).contains(month), hour <= 23, minute <= 59,
            second <= 59
        else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard (1...monthDays).contains(day) else { return false }
        var i = 19
        if b[i] == UInt8(ascii: ".") {
            let start = i + 1
            i = start
            while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
            guard (1...3).contains(i - start) else { return false }
        }
        guard i < b.count else { return false }
        if b[i] == UInt8(ascii: "Z") { return i + 1 == b.count }
        guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), i + 6 == b.count, b[i + 3] == UInt8(ascii: ":"),
            let hours = digits((i + 1)..<(i + 3)), let minutes = digits((i + 4)..<(i + 6))
        else { return false }
        return hours <= 14 && minutes <= 59
    }

    /// `occurredAt` as an instant (checked at decoding).
    public var occurred: Date { CallEvent.parseTime(occurredAt) ?? .distantPast }
}

public enum CallDirection: String, Codable, Sendable, CaseIterable {
    case inbound, outbound, `internal`
    public init(from decoder: any Decoder) throws { self = try StrictJSON.oneOf(decoder) }
}

/// What happened. Leg events follow one agent's part of a call; `recording.*` is the PCI pause;
/// `screen.*` is work without a call (email, chat) that is recorded all the same.
public enum CallEventType: String, Codable, Sendable, CaseIterable {
    case legStarted = "leg.started"
    case legHeld = "leg.held"
    case legResumed = "leg.resumed"
    case legTransferred = "leg.transferred"
    case legConferenced = "leg.conferenced"
    case consultStarted = "consult.started"
    case consultEnded = "consult.ended"
    case legEnded = "leg.ended"
    case afterCallWorkEnded = "acw.ended"
    case recordingPaused = "recording.paused"
    case recordingResumed = "recording.resumed"
    case screenWorkStarted = "screen.started"
    case screenWorkStopped = "screen.stopped"

    public init(from decoder: any Decoder) throws { self = try StrictJSON.oneOf(decoder) }

    /// Fields an event of this type cannot do without.
    var requiredKeys: [CallEvent.CodingKeys] {
        switch self {
        case .legStarted, .legHeld, .legResumed, .legEnded, .afterCallWorkEnded: [.interactionId, .legId]
        case .legTransferred, .legConferenced, .consultStarted, .consultEnded: [.interactionId, .legId, .relatedLegId]
        case .recordingPaused, .recordingResumed: []
        case .screenWorkStarted, .screenWorkStopped: [.interactionId]
        }
    }
}

/// `POST /api/v1/cti/events` takes one event or `{"events": [...]}` (at most 500).
public struct CallEventBatch: Codable, Sendable, Equatable {
    public var events: [CallEvent]
    public static let maxEvents = 500

    public init(events: [CallEvent]) { self.events = events }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        events = try container.decode([CallEvent].self, forKey: .events)
        guard (1...CallEventBatch.maxEvents).contains(events.count) else {
            throw DecodingError.dataCorruptedError(
                forKey: .events, in: container,
                debugDescription: "must hold 1 to \(CallEventBatch.maxEvents) events, found \(events.count)")
        }
    }

    enum CodingKeys: String, CodingKey { case events }
}
