import Foundation
import RecorderCore
import WebDAV

/// Voice recordings dropped over WebDAV: a phone system's recorder PUTs the media, then a sidecar
/// naming it, into `/dav/voice-drop/{integration}/` of the built-in store (its integration's name and
/// token as Basic credentials, or the token as Bearer). The collector picks each pair up through the
/// same intake as a PUT and deletes the originals, so the plaintext stays only seconds; a restart
/// before the deletion only makes it find the pair again, and intake recognises the repeat.
///
/// Sidecars: `{name}.voice.json` (this collector's own, `docs/VOICE.md`), or a Genesys GIR
/// `recording.json` in a directory of its own with the media it lists. A pair that cannot be
/// catalogued goes to `refused/`: the media sealed for the recording keys (never left in clear), the
/// sidecar, and `{name}.error.txt` saying why.
public enum VoiceDrop {
    public static let root = "voice-drop"
    static let refused = "refused"
    /// A sidecar whose media has not come after this long is refused.
    static let mediaWaitSeconds: TimeInterval = 3600

    /// This collector's own sidecar: what a PUT's headers say, and the media file's name beside it.
    struct Sidecar: Decodable {
        var version: Int?
        var media: String
        var interactionId: String
        var legId: String
        var startedAt: String
        var agentId: String?
        var direction: CallDirection?
        var ani: String?
        var dnis: String?
        var sipCallId: String?
        var channels: [VoiceMetadata.ChannelRole]?

        enum CodingKeys: String, CodingKey {
            case version, media, direction, ani, dnis, channels
            case interactionId = "interaction_id"
            case legId = "leg_id"
            case startedAt = "started_at"
            case agentId = "agent_id"
            case sipCallId = "sip_call_id"
        }
    }
}

extension Collector {
    /// What one pass over the drop areas did.
    public struct DropPass: Sendable {
        public var imported: [VoiceRecord] = []
        public var refused: [VoiceSidecars.Problem] = []
        /// Sidecars whose media has not arrived yet.
        public var waiting = 0
        /// Pairs left for the next pass because something an admin can fix stopped them (no active
        /// recording key, no node path, the storage down).
        public var failed: [VoiceSidecars.Problem] = []
    }

    /// One pass over every integration's drop area.
    public func pickUpVoiceDrops(now: Date = Date()) async throws -> DropPass {
        var pass = DropPass()
        let store = try builtinStore()
        let root = StorePath(components: [VoiceDrop.root])
        let integrations = Dictionary(
            try await integrations.list().filter { $0.revokedAt == nil }.map { ($0.name, $0) }) { first, _ in first }
        // Each phone system's area is there before its first drop: a recorder that PUTs without MKCOL
        // (most only make the collections below their root) finds it.
        for name in integrations.keys.sorted() {
            for path in [root, StorePath(components: [VoiceDrop.root, name])] where try store.kind(path) == .missing {
                do {
                    try store.makeCollection(path)
                } catch {
                    // Another collector on the same store made it first.
                    guard case .collection = try store.kind(path) else { throw error }
                }
            }
        }
        for name in try store.children(root) where integrations[name] != nil {
            let (sidecars, files) = try Self.drops(in: store, under: [VoiceDrop.root, name])
            var named = Set<[String]>()
            for sidecar in sidecars {
                do {
                    named.formUnion(try await pickUp(sidecar, integration: name, store: store, now: now, into: &pass))
                } catch {
                    // One pair's trouble never holds up the others.
                    pass.failed.append(.init(file: "/" + sidecar.joined(separator: "/"), message: "\(error)"))
                }
            }
            // Media no sidecar names, an hour on: kept sealed in refused/, not left in clear.
            for file in files where !named.contains(file) {
                let url = store.url(StorePath(components: file))
                let age = (try? FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as? Date)
                    .map { now.timeIntervalSince($0) } ?? 0
                guard age > VoiceDrop.mediaWaitSeconds else { continue }
                do {
                    let problem = "no sidecar named it within an hour"
                    try await refuse(
                        file, bytes: FileManager.default.contents(atPath: url.path), sidecar: nil, because: problem,
                        store: store)
                    pass.refused.append(.init(file: "/" + file.joined(separator: "/"), message: problem))
                } catch {
                    pass.failed.append(.init(file: "/" + file.joined(separator: "/"), message: "\(error)"))
                }
            }
        }
        return pass
    }

    /// Sidecars and other files in a drop area, at most three collections deep, `refused/` left out.
    static func drops(in store: BuiltinStore, under area: [String]) throws -> (sidecars: [[String]], files: [[String]]) {
        var found: [[String]] = []
        var files: [[String]] = []
        var pending: [([String], Int)] = [(area, 0)]
        while let (directory, depth) = pending.popLast() {
            for child in try store.children(StorePath(components: directory)) {
                let path = directory + [child]
                switch try store.kind(StorePath(components: path)) {
                case .collection where depth < 3 && !(depth == 0 && child == VoiceDrop.refused):
                    pending.append((path, depth + 1))
                case .file where child.hasSuffix(".voice.json") || child == "recording.json":
                    found.append(path)
                case .file:
                    files.append(path)
                default:
                    break
                }
            }
        }
        return (found.sorted { $0.joined(separator: "/") < $1.joined(separator: "/") }, files)
    }

    /// One sidecar and its media; returns the media paths it names (for the orphan sweep).
    private func pickUp(
        _ sidecar: [String], integration: String, store: BuiltinStore, now: Date, into pass: inout DropPass
    ) async throws -> Set<[String]> {
        let directory = Array(sidecar.dropLast())
        let sidecarFile = store.url(StorePath(components: sidecar)).path
        var items: [(media: String, metadata: VoiceMetadata?, problem: String?)] = []
        if sidecar.last == "recording.json" {
            do {
                for found in try VoiceSidecars.gir(sidecarFile) {
                    guard case .gir(let file, let metadata) = found else { continue }
                    items.append(((file as NSString).lastPathComponent, metadata, nil))
                }
            } catch {
                items.append(("", nil, "\(error)"))
            }
        } else {
            do {
                let data = try Self.sidecarBytes(sidecarFile)
                let parsed = try StrictJSON.decode(VoiceDrop.Sidecar.self, from: data)
                guard (parsed.version ?? 1) == 1 else {
                    throw CollectorError(.invalid, "version \(parsed.version!) of the sidecar is not known; this collector reads version 1")
                }
                guard !parsed.media.isEmpty, !parsed.media.contains("/"), parsed.media != ".", parsed.media != "..",
                    !parsed.media.hasPrefix(".")
                else { throw CollectorError(.invalid, "media must be the name of a file beside the sidecar") }
                items.append(
                    (
                        parsed.media,
                        VoiceMetadata(
                            interactionId: parsed.interactionId, legId: parsed.legId, startedAt: parsed.startedAt,
                            agentId: parsed.agentId, direction: parsed.direction, ani: parsed.ani, dnis: parsed.dnis,
                            sipCallId: parsed.sipCallId, channelLayout: parsed.channels), nil
                    ))
            } catch {
                // Refused, but the media it names (if that is a plain name beside it) goes with it, sealed,
                // rather than wait in clear for the orphan sweep.
                let data = (try? Self.sidecarBytes(sidecarFile)) ?? Data()
                let named = (try? StrictJSON.tree(data))?["media"]?.string.flatMap { name in
                    name.isEmpty || name.contains("/") || name.hasPrefix(".") ? nil : name
                }
                items.append((named ?? sidecar.last!.replacingOccurrences(of: ".voice.json", with: ""), nil, "\(error)"))
            }
        }
        var settled = true
        var named = Set<[String]>()
        for item in items {
            let mediaPath = directory + [item.media]
            named.insert(mediaPath)
            let hasMedia = !item.media.isEmpty && (try? store.kind(StorePath(components: mediaPath))).map {
                if case .file = $0 { true } else { false }
            } == true
            var problem = item.problem
            // Picked up on an earlier pass (a GIR sidecar stays until every media it lists is done).
            if !hasMedia, let metadata = item.metadata,
                try await voice.list(interactionId: metadata.interactionId).contains(where: {
                    $0.integration == integration && $0.legId == metadata.legId && $0.deliveredBy == "drop"
                })
            {
                continue
            }
            if problem == nil, !hasMedia {
                let age = (try? FileManager.default.attributesOfItem(atPath: sidecarFile)[.modificationDate] as? Date)
                    .map { now.timeIntervalSince($0) } ?? 0
                guard age > VoiceDrop.mediaWaitSeconds else {
                    pass.waiting += 1
                    settled = false
                    continue
                }
                problem = "its media \(item.media) never arrived"
            }
            let bytes = hasMedia ? FileManager.default.contents(atPath: store.url(StorePath(components: mediaPath)).path) : nil
            if problem == nil, let metadata = item.metadata, let bytes {
                do {
                    let validated = try metadata.validated { "\($0) (\(sidecar.last!))" }
                    let ingested = try await ingestVoice(
                        [UInt8](bytes), contentType: nil, metadata: validated, integration: integration, deliveredBy: "drop")
                    pass.imported.append(ingested.record)
                    try? store.remove(StorePath(components: mediaPath))
                    continue
                } catch let error as CollectorError where Self.refusals.contains(error.kind) {
                    problem = error.description
                } catch {
                    // What an admin can fix (no recording key, no node path, the storage down): next pass.
                    pass.failed.append(.init(file: "/" + mediaPath.joined(separator: "/"), message: "\(error)"))
                }
            }
            guard let problem else {
                settled = false
                continue
            }
            try await refuse(mediaPath, bytes: bytes, sidecar: sidecar, because: problem, store: store)
            pass.refused.append(.init(file: "/\(mediaPath.joined(separator: "/"))", message: problem))
        }
        if settled { try? store.remove(StorePath(components: sidecar)) }
        return named
    }

    /// What is wrong with the file itself: no later pass could take it.
    static let refusals: Set<CollectorError.Kind> = [.invalid, .unprocessable, .unsupportedMedia, .tooLarge]

    /// Keeps what could not be catalogued where an admin finds it, the media sealed.
    private func refuse(_ media: [String], bytes: Data?, sidecar: [String]?, because problem: String, store: BuiltinStore)
        async throws
    {
        let area = Array(media.prefix(2)) + [VoiceDrop.refused]
        let storage = BuiltinTargetStorage(store: store)
        let name = media.last.flatMap { $0.isEmpty ? nil : $0 } ?? sidecar?.last ?? "unnamed"
        let stamp = Timestamp.now().replacingOccurrences(of: ":", with: "")
        if let bytes {
            let recipients = try await recordingKeys.active().map { try SealingRecipient(certificatePEM: $0.certificatePEM) }
            guard !recipients.isEmpty else {
                throw CollectorError(.conflict, "no active recording key to keep a refused recording sealed: recorder-collector keys add")
            }
            let sealed = try await Collector.onThreadPool { try SegmentSealer.seal([UInt8](bytes), for: recipients) }
            try await Collector.onThreadPool { try storage.write(sealed, to: area + ["\(stamp)-\(name).p7m"]) }
            try? store.remove(StorePath(components: media))
        }
        try await Collector.onThreadPool {
            try storage.write(Array("\(problem)\n".utf8), to: area + ["\(stamp)-\(name).error.txt"])
        }
        // The sidecar is kept for the admin as it was, unless it is too large to be one (then the
        // error says so, and it is deleted with its pair).
        if let sidecar, let copy = try? Self.sidecarBytes(store.url(StorePath(components: sidecar)).path) {
            try await Collector.onThreadPool { try storage.write([UInt8](copy), to: area + ["\(stamp)-\(sidecar.last!)"]) }
        }
    }

    /// A sidecar's bytes, read only if it is a plain file of at most 1 MiB (`StrictJSON`'s bound).
    static func sidecarBytes(_ path: String) throws -> Data {
        guard Collector.isPlainFile(path) else { throw CollectorError(.invalid, "the sidecar is a link or not a regular file") }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= StrictJSON.maxDocumentBytes else {
            throw CollectorError(.invalid, "the sidecar is \(size) bytes; a sidecar is at most \(StrictJSON.maxDocumentBytes)")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw CollectorError(.invalid, "cannot read the sidecar") }
        return data
    }
}
