import Crypto
import Foundation
import RecorderCore
import Synchronization

/// Recordings opened for playback. The collector reads the sealed object from the storage it was
/// catalogued in, checks that it is the very object catalogued (its SHA-256, which the agent signed
/// for screen and intake computed for voice), and opens it with the recording keys: whole (AES-GCM:
/// a changed byte fails), or, for a large one in the built-in store, range by range from its sealed
/// file (`PlaintextSource`). The plaintext is in memory only, never on disk.
///
/// A player asks for each file in ranges, so opened files are kept in a small cache (`PlaybackCache`)
/// and opened once however many ranges are read.
public struct PlaybackMedia: Sendable {
    /// The opened recording, as stored: in memory or read by ranges (`PlaintextSource`).
    let source: PlaintextSource
    public var contentType: String
    /// A name for a download: the interaction, the agent or leg, and the UTC time it began.
    public var fileName: String
    /// What the player gets: the bytes as they are, or (G.711) the 16-bit PCM WAV they decode to.
    var rendition: Rendition = .asStored
    /// The integration of the call it was opened for (the audit entry's target names it).
    public var callIntegration = ""

    public init(bytes: [UInt8], contentType: String, fileName: String) {
        self.init(source: PlaintextSource(.memory(bytes)), contentType: contentType, fileName: fileName)
    }

    init(source: PlaintextSource, contentType: String, fileName: String) {
        self.source = source
        self.contentType = contentType
        self.fileName = fileName
    }

    /// The whole recording as stored (an export, the search for silence); read once, not kept.
    public func whole() throws -> [UInt8] { try source.read(0..<source.count) }

    enum Rendition: Sendable {
        case asStored
        case pcm16(header: [UInt8], data: Range<Int>, law: AudioFacts.Codec)
    }

    /// The size of what the player gets.
    public var size: Int {
        switch rendition {
        case .asStored: source.count
        case .pcm16(let header, let data, _): header.count + data.count * 2
        }
    }

    /// Bytes `range` of what the player gets (`range` within `size`).
    public func slice(_ range: Range<Int>) throws -> [UInt8] {
        switch rendition {
        case .asStored: try source.read(range)
        case .pcm16(let header, let data, let law):
            try G711Playback.slice(range, data: data, header: header, law: law, read: source.read)
        }
    }
}

/// Opens of one file at a time share one read; a few files are opened at once, the others wait their
/// turn, so a burst of range requests cannot hold many copies of large recordings in memory.
actor PlaybackOpens {
    private var running: [String: Task<PlaybackMedia, any Error>] = [:]
    private let turns: AsyncTurn

    init(limit: Int = 2) { turns = AsyncTurn(limit: limit) }

    func open(_ key: String, _ work: @escaping @Sendable () async throws -> PlaybackMedia) async throws -> PlaybackMedia {
        if let task = running[key] { return try await task.value }
        let turns = self.turns
        let task = Task { try await turns.run { try await work() } }
        running[key] = task
        defer { running[key] = nil }
        return try await task.value
    }
}

/// Opened recordings, least recently used first out, within a byte budget.
final class PlaybackCache: Sendable {
    private struct Entry {
        var media: PlaybackMedia
        var used: UInt64
    }

    private let state = Mutex<(entries: [String: Entry], bytes: Int, tick: UInt64)>(([:], 0, 0))
    let budget: Int

    init(budget: Int = 256 << 20) { self.budget = budget }

    func get(_ key: String) -> PlaybackMedia? {
        state.withLock { state in
            guard var entry = state.entries[key] else { return nil }
            guard entry.media.source.stillAsChecked else {
                state.entries[key] = nil
                state.bytes -= entry.media.source.residentBytes
                return nil
            }
            state.tick += 1
            entry.used = state.tick
            state.entries[key] = entry
            return entry.media
        }
    }

    func put(_ key: String, _ media: PlaybackMedia) {
        guard media.source.residentBytes <= budget / 2 else { return }
        state.withLock { state in
            state.tick += 1
            if let old = state.entries.updateValue(Entry(media: media, used: state.tick), forKey: key) {
                state.bytes -= old.media.source.residentBytes
            }
            state.bytes += media.source.residentBytes
            while state.bytes > budget, let oldest = state.entries.min(by: { $0.value.used < $1.value.used }) {
                state.entries[oldest.key] = nil
                state.bytes -= oldest.value.media.source.residentBytes
            }
        }
    }
}

extension Collector {
    /// The largest recording opened for playback in one piece.
    static let maximumPlaybackBytes = 600 << 20

    /// One screen segment of a call's timeline, as WebM, if the call and that workstation are in reach.
    public func screenMedia(
        _ interactionId: String, integration: String?, agentId: String, sequence: Int, for access: Access
    ) async throws -> PlaybackMedia {
        guard let timeline = try await timeline(interactionId, integration: integration, for: access),
            timeline.screen.contains(where: { $0.agentId == agentId && $0.sequence == sequence })
        else {
            throw CollectorError(.notFound, "no screen segment \(OutsideText.bounded(agentId, limit: 80)) #\(sequence) in this call")
        }
        let records = try await segments.records(agentId: agentId, sequence: sequence)
        // Two manifests for one place in a chain (a broken chain) are never guessed between.
        guard records.count == 1, let record = records.first else {
            throw CollectorError(.conflict, "segment \(agentId) #\(sequence) has \(records.count) catalogued versions; see admin segment list")
        }
        let key = "screen/\(record.manifestSha256)"
        if var cached = playbackCache.get(key) {
            cached.callIntegration = timeline.integration
            return cached
        }
        let threshold = rangedThreshold
        let media = try await telling(access) { try await playbackOpens.open(key) {
            let what = "screen segment \(agentId) #\(sequence)"
            let source: PlaintextSource
            if let ranged = try await rangedSource(
                storage: record.storageTarget, path: record.objectPath, sha256: record.manifest.sealedSha256,
                plainSha256: nil, what: what, threshold: threshold)
            {
                source = ranged
            } else {
                source = PlaintextSource(
                    .memory(
                        try await open(
                            storage: record.storageTarget, path: record.objectPath, sha256: record.manifest.sealedSha256,
                            what: what)))
            }
            let start = record.manifest.firstFrameTime.replacingOccurrences(of: ":", with: "")
            return PlaybackMedia(
                source: source, contentType: "video/webm",
                fileName: Self.fileName("\(interactionId)_\(agentId)_\(start)", extension: "webm"))
        } }
        playbackCache.put(key, media)
        var answer = media
        answer.callIntegration = timeline.integration
        return answer
    }

    /// One voice recording of a call's timeline, as browsers play it (G.711 decoded to 16-bit PCM; the
    /// rest as stored), if the call is in reach.
    public func voiceMedia(_ interactionId: String, integration: String?, voiceId: String, for access: Access) async throws
        -> PlaybackMedia
    {
        guard let timeline = try await timeline(interactionId, integration: integration, for: access),
            timeline.voice.contains(where: { $0.id == voiceId })
        else {
            throw CollectorError(.notFound, "no voice recording \(OutsideText.bounded(voiceId, limit: 80)) in this call")
        }
        guard let record = try await voice.get(voiceId) else {
            throw CollectorError(.notFound, "no voice recording \(OutsideText.bounded(voiceId, limit: 80))")
        }
        let key = "voice/\(record.sealedSha256)"
        if var cached = playbackCache.get(key) {
            cached.callIntegration = timeline.integration
            return cached
        }
        let threshold = rangedThreshold
        let media = try await telling(access) { try await playbackOpens.open(key) {
            let what = "voice recording \(voiceId)"
            let source: PlaintextSource
            if let ranged = try await rangedSource(
                storage: record.storageTarget, path: record.objectPath, sha256: record.sealedSha256, plainSha256: record.sha256,
                what: what, threshold: threshold)
            {
                source = ranged
            } else {
                let opened = try await open(
                    storage: record.storageTarget, path: record.objectPath, sha256: record.sealedSha256, what: what)
                let digest = try await Self.onThreadPool { ManifestVerification.sha256Hex(Data(opened)) }
                guard digest == record.sha256 else {
                    throw StorageFault(kind: .unprocessable, detail: "\(what) opened to other audio than was catalogued", what: what)
                }
                source = PlaintextSource(.memory(opened))
            }
            let isOgg = record.audio.codec == .opus
            let start = record.startedAt.replacingOccurrences(of: ":", with: "")
            var media = PlaybackMedia(
                source: source, contentType: isOgg ? "audio/ogg" : "audio/wav",
                fileName: Self.fileName("\(interactionId)_\(record.legId)_\(start)", extension: isOgg ? "opus" : "wav"))
            // G.711 plays nowhere in a browser: the player gets 16-bit PCM, decoded range by range.
            if record.audio.codec == .mulaw || record.audio.codec == .alaw,
                let data = G711Playback.dataChunk(try source.read(0..<min(source.count, 64 << 10)), total: source.count)
            {
                media.rendition = .pcm16(
                    header: G711Playback.header(
                        dataBytes: data.count * 2, channels: record.audio.channels, sampleRate: record.audio.sampleRate),
                    data: data, law: record.audio.codec)
            }
            return media
        } }
        playbackCache.put(key, media)
        var answer = media
        answer.callIntegration = timeline.integration
        return answer
    }

    /// A stored recording that cannot be played: what an admin is told (where it is, what is wrong)
    /// and what anyone else is (that it cannot be played, and whom to ask).
    struct StorageFault: Error {
        let kind: CollectorError.Kind
        let detail: String
        let what: String

        func error(for access: Access) -> CollectorError {
            access.isAdmin
                ? CollectorError(kind, detail)
                : CollectorError(kind, "\(what) cannot be played now; an admin can see why (recorder-collector admin segment verify)")
        }
    }

    /// `body`, with a storage fault told as `access` may hear it: storage paths and keys are for admins.
    func telling<T>(_ access: Access, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let fault as StorageFault {
            throw fault.error(for: access)
        }
    }

    /// Reads, checks and opens one sealed object.
    func open(storage name: String, path: String, sha256: String, what: String) async throws -> [UInt8] {
        let storage = try await self.storage(named: name)
        let components = path.split(separator: "/").map(String.init)
        let limit = Self.maximumPlaybackBytes
        guard let sealed = try await Self.onThreadPool({ try storage.read(components, limit: limit) }) else {
            throw StorageFault(kind: .notFound, detail: "\(what) is catalogued but missing from \(storage.describe(components))", what: what)
        }
        let digest = try await Self.onThreadPool { ManifestVerification.sha256Hex(sealed) }
        guard digest == sha256 else {
            throw StorageFault(
                kind: .unprocessable, detail: "\(what) in \(storage.describe(components)) is not the file catalogued (its SHA-256 differs)",
                what: what)
        }
        do {
            return try await recordingKeys.open([UInt8](sealed))
        } catch {
            throw StorageFault(kind: .unprocessable, detail: "\(what) does not open with the recording keys: \(error)", what: what)
        }
    }

    /// Letters, digits, `-`, `_` and `.` only: a name any file system and `Content-Disposition` take.
    static func fileName(_ base: String, extension suffix: String) -> String {
        let safe = String(base.unicodeScalars.map { scalar -> Character in
            CharacterSet.alphanumerics.contains(scalar) && scalar.isASCII || "-_.".unicodeScalars.contains(scalar)
                ? Character(scalar) : "_"
        }.prefix(180))
        return "\(safe).\(suffix)"
    }
}
