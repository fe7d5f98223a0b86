import Foundation
import RecorderCore
import SQLKit

/// Voice intake, whichever way a recording arrives (PUT, a WebDAV drop, an import): the bytes are read
/// by a real parser (`AudioProbe`), sealed for the recording keys with the same CMS profile as screen
/// segments, written to the storage of the node path where the call's agent sits, and catalogued
/// with their SHA-256. The plaintext is never written anywhere. A retry of the same bytes for the same
/// leg returns the recording already catalogued.
extension Collector {
    /// Where a day's voice recordings sit beside its agents' folders: no agent may be called this.
    static let voiceFolder = "voice"

    /// The largest voice file taken: two hours of 16 kHz stereo PCM. It is held in memory while it is
    /// checked and sealed.
    public static let maximumVoiceBytes = 512 << 20

    public struct VoiceIngested: Sendable {
        public var record: VoiceRecord
        /// False when the catalog held this delivery already.
        public var added: Bool
    }

    public func ingestVoice(
        _ bytes: [UInt8], contentType: String?, metadata: VoiceMetadata, integration: String, deliveredBy: String
    ) async throws -> VoiceIngested {
        let sha256 = ManifestVerification.sha256Hex(bytes)
        if let existing = try await voice.find(
            integration: integration, interactionId: metadata.interactionId, legId: metadata.legId, sha256: sha256)
        {
            // A retry after a crash between the row and its queue entry: queued again (harmless otherwise).
            try await catalog.transaction {
                try await CorrelationJob.enqueue([(integration, metadata.interactionId)], in: $0)
            }
            return VoiceIngested(record: existing, added: false)
        }
        let facts: AudioFacts
        do {
            facts = try AudioProbe.probe(bytes, contentType: contentType)
        } catch {
            throw CollectorError(error.kind == .unsupported ? .unsupportedMedia : .unprocessable, error.description)
        }
        let layout = try Self.channelLayout(metadata.channelLayout, channels: facts.channels)
        try await checkNearCall(integration: integration, metadata: metadata, durationMs: facts.durationMs)
        let nodePath = try await voiceNodePath(integration: integration, metadata: metadata)
        guard let governing = try await nodePaths.resolve(nodePath) else {
            throw CollectorError(.notFound, "no node path covers \(nodePath); an admin must add one (or /)")
        }
        let recipients = try await recordingKeys.active().map { try SealingRecipient(certificatePEM: $0.certificatePEM) }
        guard !recipients.isEmpty else {
            throw CollectorError(.conflict, "no active recording key to seal voice for: recorder-collector keys add")
        }
        let sealed = try await Collector.onThreadPool { try SegmentSealer.seal(bytes, for: recipients) }
        let id = UUID().uuidString.lowercased()
        let path = Self.voicePath(nodePath: nodePath, metadata: metadata, id: id, suffix: facts.suffix)
        let storage = try await storage(named: governing.storage)
        try await Collector.onThreadPool { try storage.write(sealed, to: path) }
        let record = VoiceRecord(
            id: id, integration: integration, interactionId: metadata.interactionId, legId: metadata.legId,
            sha256: sha256, startedAt: metadata.startedAt, startUncertaintyMs: metadata.startUncertaintyMs, clockOf: metadata.clockOf, audio: facts, channelLayout: layout,
            agentId: metadata.agentId, direction: metadata.direction?.rawValue, ani: metadata.ani, dnis: metadata.dnis,
            sipCallId: metadata.sipCallId, nodePath: nodePath, storageTarget: governing.storage,
            objectPath: path.joined(separator: "/"), size: Int64(bytes.count), sealedSize: Int64(sealed.count),
            sealedSha256: ManifestVerification.sha256Hex(sealed),
            deliveredBy: deliveredBy, receivedAt: Timestamp.now())
        let (kept, added) = try await voice.add(record)
        if added {
            try await catalog.transaction {
                try await CorrelationJob.enqueue([(integration, metadata.interactionId)], in: $0)
            }
        }
        if !added {
            // The same delivery raced this one and was catalogued first: its file stays, ours goes.
            try? await Collector.onThreadPool { try storage.remove(path) }
        }
        return VoiceIngested(record: kept, added: added)
    }

    /// `{nodePath}/{yyyy}/{mm}/{dd}/voice/{interaction}/{start}-{leg}-{id}.wav.p7m`: beside the
    /// day's screen segments, under the interaction; every component sanitized.
    static func voicePath(nodePath: String, metadata: VoiceMetadata, id: String, suffix: String) -> [String] {
        let node = nodePath.split(separator: "/").map { StorageLayout.sanitize(String($0)) }
        let day = metadata.startedAt.prefix(10).split(separator: "-").map { StorageLayout.sanitize(String($0)) }
        let stamp = metadata.startedAt.replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        let name = "\(stamp)-\(StorageLayout.sanitize(metadata.legId).prefix(64))-\(id.prefix(8))\(suffix).p7m"
        return node + day + [Self.voiceFolder, StorageLayout.sanitize(metadata.interactionId), name]
    }

    /// Who each channel is: as declared (one role per channel), else `mixed` for mono and `unknown`
    /// for each channel of a multi-channel file.
    static func channelLayout(_ declared: [VoiceMetadata.ChannelRole]?, channels: Int) throws
        -> [VoiceMetadata.ChannelRole]
    {
        guard let declared else { return channels == 1 ? [.mixed] : Array(repeating: .unknown, count: channels) }
        guard declared.count == channels else {
            throw CollectorError(
                .invalid,
                "the channel layout names \(declared.count) channel\(declared.count == 1 ? "" : "s") (\(declared.map(\.rawValue).joined(separator: ","))); the file has \(channels)"
            )
        }
        return declared
    }

    /// A recording of a call the catalog knows lies near it: one lying hours away comes from a phone
    /// system's wrong clock or start header, and would stretch the call's timeline and export by as
    /// much. Refused (422) so the sender fixes it; a call not known yet is correlated when it arrives.
    func checkNearCall(integration: String, metadata: VoiceMetadata, durationMs: Int64) async throws {
        guard let start = Timestamp.date(metadata.startedAt),
            let row = try await catalog.sql.raw(
                """
                SELECT started_at, ended_at FROM calls WHERE integration = \(bind: integration)
                AND interaction_id = \(bind: metadata.interactionId)
                """
            ).first()
        else { return }
        let callEndedAt = try row.decode(column: "ended_at", as: String?.self).flatMap(Timestamp.date)
        // The timeline's rule, which sets aside a voice that arrived before its call, on the call's
        // earliest known time: a call known only by its end is measured from its end.
        guard let callStart = try row.decode(column: "started_at", as: String?.self).flatMap(Timestamp.date) ?? callEndedAt
        else { return }
        func ms(_ date: Date) -> Int64 { Int64((date.timeIntervalSince(callStart) * 1000).rounded()) }
        let callEndMs = TimelineBuilder.voiceCallEnd(endMs: callEndedAt.map(ms), nowMs: ms(Date()))
        let callEnd = callStart.addingTimeInterval(Double(callEndMs) / 1000)
        guard !TimelineBuilder.voiceLiesOutside(offsetMs: ms(start), durationMs: durationMs, callEndMs: callEndMs) else {
            throw CollectorError(
                .unprocessable,
                "the recording starts at \(metadata.startedAt) and lasts \(durationMs / 1000) s, more than an hour away from "
                    + "call \(OutsideText.bounded(metadata.interactionId, limit: 80)) (\(Timestamp.string(callStart)) to "
                    + "\(Timestamp.string(callEnd))); check the phone system's clock and the start it sends (X-Voice-Start)")
        }
    }

    /// The node path whose storage keeps the file: the workstation's where the voice's agent sits,
    /// else where one of the call's legs was taken, else the root.
    func voiceNodePath(integration: String, metadata: VoiceMetadata) async throws -> String {
        var workstation: String?
        if let agent = metadata.agentId {
            workstation = try await catalog.sql.raw(
                """
                SELECT agent_id FROM agent_identities WHERE integration = \(bind: integration)
                AND external_id = \(bind: agent)
                """
            ).first()?.decode(column: "agent_id", as: String.self)
        }
        if workstation == nil {
            workstation = try await catalog.sql.raw(
                """
                SELECT workstation FROM call_legs WHERE integration = \(bind: integration)
                AND interaction_id = \(bind: metadata.interactionId) AND workstation IS NOT NULL
                ORDER BY leg_id = \(bind: metadata.legId) DESC, started_at LIMIT 1
                """
            ).first()?.decode(column: "workstation", as: String.self)
        }
        guard let workstation else { return "/" }
        // A workstation revoked and removed since is the only reason to fall back: a failing catalog
        // must not put the file on another node path's storage.
        do {
            return try await agents.get(workstation).nodePath
        } catch let error as CollectorError where error.kind == .notFound {
            return "/"
        }
    }
}
