import Foundation
import RecorderCore
import SQLKit

/// What the phone system says about a voice file, beside its bytes (`PUT /api/v1/voice/…` headers, a
/// drop's sidecar, an import). Outside data: every text is bounded and free of control characters.
public struct VoiceMetadata: Sendable, Equatable {
    public var interactionId: String
    public var legId: String
    /// When the recording's first sample was taken, on the source's clock (RFC 3339 with a zone).
    public var startedAt: String
    /// How far `startedAt` may be off, in ms: 0 for a phone system's own timestamp, the resolution of a
    /// time read from a file name (baresip's are to the second).
    public var startUncertaintyMs: Int64 = 0
    /// The enrolled agent whose clock stamped `startedAt` (a softphone's file names), nil for the phone
    /// system's clock. The timeline corrects it by that agent's measured offset.
    public var clockOf: String?
    /// The phone system's agent identity (mapped to a workstation like a call event's `agent_id`).
    public var agentId: String?
    public var direction: CallDirection?
    public var ani: String?
    public var dnis: String?
    /// The SIP Call-ID of the recorded call, for matching when the interaction id is not the screen's.
    public var sipCallId: String?
    /// Who each channel is: `agent`, `customer`, `mixed` (both on one channel) or `unknown`.
    public var channelLayout: [ChannelRole]?

    public enum ChannelRole: String, Codable, Sendable, CaseIterable {
        case agent, customer, mixed, unknown
    }

    public init(
        interactionId: String, legId: String, startedAt: String, agentId: String? = nil,
        direction: CallDirection? = nil, ani: String? = nil, dnis: String? = nil, sipCallId: String? = nil,
        channelLayout: [ChannelRole]? = nil
    ) {
        self.interactionId = interactionId
        self.legId = legId
        self.startedAt = startedAt
        self.agentId = agentId
        self.direction = direction
        self.ani = ani
        self.dnis = dnis
        self.sipCallId = sipCallId
        self.channelLayout = channelLayout
    }

    /// Each field checked as a call event's are; the error names the field (`what` says where it came
    /// from, e.g. "header X-Voice-Start").
    public func validated(name: (String) -> String) throws -> VoiceMetadata {
        var copy = self
        func text(_ value: String, _ field: String, limit: Int = 256) throws -> String {
            guard !value.isEmpty else { throw CollectorError(.invalid, "\(name(field)) must not be empty") }
            guard value.unicodeScalars.count <= limit else {
                throw CollectorError(.invalid, "\(name(field)) is \(value.unicodeScalars.count) characters long; at most \(limit)")
            }
            if let bad = value.unicodeScalars.first(where: OutsideText.isUnsafe) {
                throw CollectorError(
                    .invalid, "\(name(field)) holds the control or invisible character U+\(String(format: "%04X", bad.value))")
            }
            return value
        }
        copy.interactionId = try text(interactionId, "interaction_id")
        copy.legId = try text(legId, "leg_id")
        guard let start = Timestamp.date(startedAt), (2000...2099).contains(Int(startedAt.prefix(4)) ?? 0) else {
            throw CollectorError(
                .invalid,
                "\(name("started_at")) must be an RFC 3339 time with a zone between 2000 and 2099, e.g. 2026-11-23T12:00:00.250Z, found \"\(OutsideText.bounded(startedAt, limit: 40))\""
            )
        }
        copy.startedAt = Timestamp.string(start)
        copy.agentId = try agentId.map { try text($0, "agent_id") }
        copy.ani = try ani.map { try text($0, "ani") }
        copy.dnis = try dnis.map { try text($0, "dnis") }
        copy.sipCallId = try sipCallId.map { try text($0, "sip_call_id", limit: 512) }
        return copy
    }
}

/// One catalogued voice recording: where its sealed file is and what it holds.
public struct VoiceRecord: Codable, Sendable, Equatable {
    public var id: String
    public var integration: String
    public var interactionId: String
    public var legId: String
    /// SHA-256 of the audio as delivered (before sealing): what a retry is recognised by.
    public var sha256: String
    public var startedAt: String
    public var startUncertaintyMs: Int64
    public var clockOf: String?
    public var audio: AudioFacts
    public var channelLayout: [VoiceMetadata.ChannelRole]
    public var agentId: String?
    public var direction: String?
    public var ani: String?
    public var dnis: String?
    public var sipCallId: String?
    public var nodePath: String
    public var storageTarget: String
    public var objectPath: String
    public var size: Int64
    public var sealedSize: Int64
    public var sealedSha256: String
    /// `put`, `drop` or `import`: how it came in.
    public var deliveredBy: String
    public var receivedAt: String

    enum CodingKeys: String, CodingKey {
        case id, integration, sha256, audio, direction, ani, dnis, size
        case interactionId = "interaction_id"
        case legId = "leg_id"
        case startedAt = "started_at"
        case startUncertaintyMs = "start_uncertainty_ms"
        case clockOf = "clock_of"
        case channelLayout = "channel_layout"
        case agentId = "agent_id"
        case sipCallId = "sip_call_id"
        case nodePath = "node_path"
        case storageTarget = "storage_target"
        case objectPath = "object_path"
        case sealedSize = "sealed_size"
        case sealedSha256 = "sealed_sha256"
        case deliveredBy = "delivered_by"
        case receivedAt = "received_at"
    }
}

/// The voice catalog.
public struct VoiceRecordings: Sendable {
    let catalog: Catalog

    public init(catalog: Catalog) {
        self.catalog = catalog
    }

    public func find(integration: String, interactionId: String, legId: String, sha256: String) async throws
        -> VoiceRecord?
    {
        try await catalog.sql.raw(
            """
            SELECT * FROM voice_recordings WHERE integration = \(bind: integration)
            AND interaction_id = \(bind: interactionId) AND leg_id = \(bind: legId) AND sha256 = \(bind: sha256)
            """
        ).first().map(Self.record)
    }

    /// Adds the row unless the same delivery is there already; returns the row that stays and whether
    /// it is this one (two deliveries of one file racing: one wins, the other learns it lost).
    func add(_ record: VoiceRecord) async throws -> (record: VoiceRecord, added: Bool) {
        let row: [(String, any Encodable & Sendable)] = [
            ("id", record.id), ("integration", record.integration), ("interaction_id", record.interactionId),
            ("leg_id", record.legId), ("sha256", record.sha256), ("started_at", record.startedAt),
            ("start_uncertainty_ms", record.startUncertaintyMs), ("clock_of", record.clockOf),
            ("duration_ms", record.audio.durationMs), ("container", record.audio.container.rawValue),
            ("codec", record.audio.codec.rawValue), ("channels", record.audio.channels),
            ("sample_rate", record.audio.sampleRate),
            ("channel_layout", record.channelLayout.map(\.rawValue).joined(separator: ",")),
            ("agent_id", record.agentId), ("direction", record.direction), ("ani", record.ani), ("dnis", record.dnis),
            ("sip_call_id", record.sipCallId), ("node_path", record.nodePath),
            ("storage_target", record.storageTarget), ("object_path", record.objectPath), ("size", record.size),
            ("sealed_size", record.sealedSize), ("sealed_sha256", record.sealedSha256),
            ("delivered_by", record.deliveredBy), ("received_at", record.receivedAt),
        ]
        let inserted = try await catalog.sql.insert(into: "voice_recordings").columns(row.map(\.0))
            .values(row.map { SQLBind($0.1) }).ignoringConflicts().returning("id").all()
        if !inserted.isEmpty { return (record, true) }
        guard
            let existing = try await find(
                integration: record.integration, interactionId: record.interactionId, legId: record.legId,
                sha256: record.sha256)
        else { throw CollectorError(.conflict, "voice recording \(record.id) was neither added nor found") }
        return (existing, false)
    }

    /// An interaction's recordings, in start order (any integration).
    public func get(_ id: String) async throws -> VoiceRecord? {
        try await catalog.sql.raw("SELECT * FROM voice_recordings WHERE id = \(bind: id)").first().map(Self.record)
    }

    public func list(interactionId: String? = nil, limit: Int = 1000) async throws -> [VoiceRecord] {
        if let interactionId {
            return try await catalog.sql.raw(
                """
                SELECT * FROM voice_recordings WHERE interaction_id = \(bind: interactionId)
                ORDER BY started_at, id LIMIT \(bind: limit)
                """
            ).all().map(Self.record)
        }
        return try await catalog.sql.raw(
            "SELECT * FROM voice_recordings ORDER BY received_at DESC, id LIMIT \(bind: limit)"
        ).all().map(Self.record)
    }

    static func record(_ row: any SQLRow) throws -> VoiceRecord {
        func text(_ column: String) throws -> String { try row.decode(column: column, as: String.self) }
        func optional(_ column: String) throws -> String? { try row.decode(column: column, as: String?.self) }
        let layout = try text("channel_layout").split(separator: ",").map {
            VoiceMetadata.ChannelRole(rawValue: String($0)) ?? .unknown
        }
        return VoiceRecord(
            id: try text("id"), integration: try text("integration"), interactionId: try text("interaction_id"),
            legId: try text("leg_id"), sha256: try text("sha256"), startedAt: try text("started_at"),
            startUncertaintyMs: try row.decode(column: "start_uncertainty_ms", as: Int64.self),
            clockOf: try optional("clock_of"),
            audio: AudioFacts(
                container: AudioFacts.Container(rawValue: try text("container")) ?? .wav,
                codec: AudioFacts.Codec(rawValue: try text("codec")) ?? .pcm16,
                channels: try row.decode(column: "channels", as: Int.self),
                sampleRate: try row.decode(column: "sample_rate", as: Int.self),
                durationMs: try row.decode(column: "duration_ms", as: Int64.self)),
            channelLayout: layout, agentId: try optional("agent_id"), direction: try optional("direction"),
            ani: try optional("ani"), dnis: try optional("dnis"), sipCallId: try optional("sip_call_id"),
            nodePath: try text("node_path"), storageTarget: try text("storage_target"),
            objectPath: try text("object_path"), size: try row.decode(column: "size", as: Int64.self),
            sealedSize: try row.decode(column: "sealed_size", as: Int64.self),
            sealedSha256: try text("sealed_sha256"), deliveredBy: try text("delivered_by"),
            receivedAt: try text("received_at"))
    }
}
