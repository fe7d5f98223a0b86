import Foundation
import RecorderCore
import SQLKit

/// Bulk back-fill (`recorder-collector voice import DIR`): every recording `VoiceSidecars` finds is
/// matched to its call and goes through the same intake as a PUT. Importing a directory twice adds
/// nothing the second time. What cannot be imported is listed with the reason and left where it is.
extension Collector {
    public struct VoiceImportReport: Sendable {
        public var imported: [VoiceRecord] = []
        /// Already catalogued (an import run again).
        public var repeated: [VoiceRecord] = []
        public var problems: [VoiceSidecars.Problem] = []
    }

    /// `integration`: whose calls GIR and Amazon Connect files belong to. `workstation`: the enrolled
    /// agent whose softphone wrote baresip dumps, in `timeZone` (their names are in local time).
    public func importVoice(
        from directory: URL, integration: String?, workstation: String?, timeZone: TimeZone = .current
    ) async throws -> VoiceImportReport {
        var report = VoiceImportReport()
        let (found, problems) = VoiceSidecars.scan(directory)
        report.problems = problems
        if let integration, try await integrations.list().contains(where: { $0.name == integration && $0.revokedAt == nil }) == false {
            throw CollectorError(.notFound, "no integration \(integration) that is not revoked (admin integration list)")
        }
        for item in found {
            let file: String
            let owner: String
            let metadata: VoiceMetadata
            do {
                (file, owner, metadata) = try await resolve(item, integration: integration, workstation: workstation, timeZone: timeZone)
                let validated = try metadata.validated { "\($0) (from \((file as NSString).lastPathComponent))" }
                // Only files that are what they say: a link could make an import read anything on the machine.
                guard Self.isPlainFile(file) else {
                    throw CollectorError(.invalid, "the media is a link or not a regular file; only regular files are imported")
                }
                let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
                guard size <= Collector.maximumVoiceBytes else {
                    throw CollectorError(.tooLarge, "\(size) bytes; a voice recording is at most \(Collector.maximumVoiceBytes >> 20) MB")
                }
                guard let bytes = FileManager.default.contents(atPath: file) else {
                    throw CollectorError(.notFound, "the media file is missing or unreadable")
                }
                let ingested = try await ingestVoice(
                    [UInt8](bytes), contentType: nil, metadata: validated, integration: owner, deliveredBy: "import")
                if ingested.added { report.imported.append(ingested.record) } else { report.repeated.append(ingested.record) }
            } catch {
                report.problems.append(.init(file: Self.path(of: item), message: "\(error)"))
            }
        }
        return report
    }

    static func path(of item: VoiceSidecars.Found) -> String {
        switch item {
        case .gir(let file, _), .amazonConnect(let file, _, _), .baresip(let file, _, _): file
        }
    }

    /// The file, the integration the call belongs to, and the metadata, with the call found in the
    /// catalog where the file's convention does not name it.
    private func resolve(
        _ item: VoiceSidecars.Found, integration: String?, workstation: String?, timeZone: TimeZone
    ) async throws -> (String, String, VoiceMetadata) {
        switch item {
        case .gir(let file, let metadata):
            guard let integration else {
                throw CollectorError(.invalid, "a Genesys recording: say whose calls with --integration NAME")
            }
            return (file, integration, metadata)
        case .amazonConnect(let file, let contactId, let named):
            guard let integration else {
                throw CollectorError(.invalid, "an Amazon Connect recording: say whose calls with --integration NAME")
            }
            // The contact is a leg; its interaction (initialContactId) and its start are the catalog's.
            let leg = try await catalog.sql.raw(
                """
                SELECT interaction_id, started_at, agent FROM call_legs WHERE integration = \(bind: integration)
                AND leg_id = \(bind: contactId) LIMIT 1
                """
            ).first()
            var metadata = VoiceMetadata(
                interactionId: try leg?.decode(column: "interaction_id", as: String.self) ?? contactId, legId: contactId,
                startedAt: Timestamp.string(named))
            if let started = try leg?.decode(column: "started_at", as: String?.self) {
                metadata.startedAt = started
            } else {
                metadata.startUncertaintyMs = 60_000
            }
            metadata.agentId = try leg?.decode(column: "agent", as: String?.self)
            // Connect records stereo with the customer on the left and the agent on the right.
            metadata.channelLayout = Self.channels(of: file) == 2 ? [.customer, .agent] : nil
            return (file, integration, metadata)
        case .baresip(let file, let localTime, let role):
            guard let workstation else {
                throw CollectorError(.invalid, "a baresip recording: say whose softphone wrote it with --workstation ID")
            }
            let start = try Self.instant(localTime, in: timeZone)
            // The name is the workstation's clock, as are its softphone's legs; a phone system's legs are
            // on the reference clock, so they are compared with the name corrected by the measured offset.
            let history = try await clockOffsets.history(agentId: workstation, from: start, to: start)
            let corrected = ClockOffsets.correction(atWorkstationTime: start, history: history)?.collectorTime(of: start) ?? start
            guard let leg = try await legAround(start, corrected: corrected, at: workstation) else {
                throw CollectorError(
                    .notFound,
                    "no call of workstation \(workstation) was going on at \(Timestamp.string(start)); import it again once the call is catalogued"
                )
            }
            var metadata = VoiceMetadata(
                interactionId: leg.interaction, legId: leg.leg, startedAt: Timestamp.string(start), agentId: leg.agent,
                channelLayout: [role])
            // baresip names a dump by the second its call's audio started (truncated), on the workstation's
            // clock. A leg that started within that second is that start; otherwise the middle of it.
            if Integrations.workstationId(of: leg.integration) != nil, leg.started >= start,
                leg.started < start.addingTimeInterval(1)
            {
                metadata.startedAt = Timestamp.string(leg.started)
                metadata.startUncertaintyMs = Self.dumpOpenDelayMs
            } else {
                metadata.startedAt = Timestamp.string(start.addingTimeInterval(0.5))
                metadata.startUncertaintyMs = 500
            }
            metadata.clockOf = workstation
            if Integrations.workstationId(of: leg.integration) != nil { metadata.sipCallId = leg.leg }
            return (file, leg.integration, metadata)
        }
    }

    /// How long after a call is established baresip's `sndfile` may open its dumps (the audio streams
    /// start with the call; measured well under this in the softphone test).
    static let dumpOpenDelayMs: Int64 = 100

    /// `2026-12-01T18:42:05` in `zone`; a date that does not exist (month 13, 30 February) is refused,
    /// not rolled over into another day.
    static func instant(_ local: String, in zone: TimeZone) throws -> Date {
        let parts = local.split(whereSeparator: { "-T:".contains($0) }).compactMap { Int($0) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let wanted = parts.count == 6
            ? DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: parts[3], minute: parts[4], second: parts[5])
            : DateComponents()
        guard parts.count == 6, let date = calendar.date(from: wanted) else {
            throw CollectorError(.invalid, "\(local) is not a local time")
        }
        let back = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        guard back.year == parts[0], back.month == parts[1], back.day == parts[2], back.minute == parts[4],
            back.second == parts[5]
        else { throw CollectorError(.invalid, "\(local) is not a date that exists") }
        return date
    }

    /// A regular file, not a link to one.
    static func isPlainFile(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG
    }

    /// The workstation's leg going on at `time` whose start is nearest it (a dump opens when the call's
    /// audio starts), within 5 s before its start and its end. `time` is compared with the workstation's
    /// own legs, `corrected` (on the reference clock) with a phone system's.
    func legAround(_ time: Date, corrected: Date, at workstation: String) async throws
        -> (integration: String, interaction: String, leg: String, agent: String?, started: Date)?
    {
        let rows = try await catalog.sql.raw(
            """
            SELECT integration, interaction_id, leg_id, agent, started_at, ended_at FROM call_legs
            WHERE workstation = \(bind: workstation)
            AND started_at <= \(bind: Timestamp.string(max(time, corrected).addingTimeInterval(5)))
            AND started_at >= \(bind: Timestamp.string(min(time, corrected).addingTimeInterval(-12 * 3600)))
            ORDER BY started_at DESC LIMIT 50
            """
        ).all()
        var best: (integration: String, interaction: String, leg: String, agent: String?, started: Date, distance: TimeInterval)?
        for row in rows {
            guard let started = Timestamp.date(try row.decode(column: "started_at", as: String.self)) else { continue }
            let own = Integrations.workstationId(of: try row.decode(column: "integration", as: String.self)) != nil
            let reference = own ? time : corrected
            let ended = try row.decode(column: "ended_at", as: String?.self).flatMap(Timestamp.date)
            if let ended, ended.addingTimeInterval(5) < reference { continue }
            if started > reference.addingTimeInterval(5) { continue }
            let distance = abs(started.timeIntervalSince(reference))
            if best == nil || distance < best!.distance {
                best = (
                    try row.decode(column: "integration", as: String.self),
                    try row.decode(column: "interaction_id", as: String.self),
                    try row.decode(column: "leg_id", as: String.self), try row.decode(column: "agent", as: String?.self),
                    started, distance
                )
            }
        }
        return best.map { ($0.integration, $0.interaction, $0.leg, $0.agent, $0.started) }
    }

    /// The channel count of a WAV's header, without reading the whole file.
    static func channels(of file: String) -> Int? {
        guard let handle = FileHandle(forReadingAtPath: file) else { return nil }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 4096)) ?? Data())
        let reader = ByteReader(bytes: head)
        var offset = 12
        while offset + 8 <= head.count, let id = reader.tag(offset), let size = reader.u32(offset + 4) {
            if id == "fmt " { return reader.u16(offset + 10) }
            offset += 8 + size + (size & 1)
        }
        return nil
    }
}
