import Foundation
import RecorderCore

/// What a directory of recordings says about them, by the conventions of the systems that wrote them
/// (`recorder-collector voice import DIR`):
///
/// * **Genesys GIR**: a `recording.json` beside its media files (the Recording Crypto Server's archive
///   layout). Each entry of `mediaFiles` names its file (`mediaId`, else the last part of `mediaPath`),
///   its call (`callUUID`), its times and, in `parameters`, `connId`, `ani`, `dnis` and `agentId`.
/// * **Amazon Connect**: `{contactId}_{yyyyMMddTHH:mm}_UTC.wav`, stereo with the customer on the left
///   and the agent on the right. The name's time is to the minute; the call catalog's start of that
///   contact is used when it has one.
/// * **baresip** `sndfile`: `dump-{yyyy-MM-dd-HH-mm-ss}-enc.wav` (what the phone sent: the agent) and
///   `-dec.wav` (what it heard: the customer), local time to the second, no call id: matched to the
///   workstation's leg by time.
public enum VoiceSidecars {
    public enum Found: Sendable, Equatable {
        case gir(file: String, metadata: VoiceMetadata)
        case amazonConnect(file: String, contactId: String, named: Date)
        case baresip(file: String, localTime: String, role: VoiceMetadata.ChannelRole)
    }

    /// A file or sidecar that cannot be imported, and why.
    public struct Problem: Sendable, Equatable {
        public var file: String
        public var message: String
    }

    /// Every recording under `directory` that one of the conventions describes; files none of them
    /// describe are left out (a directory also holds other things), sidecars that cannot be read are
    /// problems.
    public static func scan(_ directory: URL) -> (found: [Found], problems: [Problem]) {
        var found: [Found] = []
        var problems: [Problem] = []
        let names = (FileManager.default.enumerator(atPath: directory.path)?.allObjects as? [String] ?? []).sorted()
        for name in names.prefix(200_000) {
            let path = directory.appendingPathComponent(name).path
            let file = (name as NSString).lastPathComponent
            if file == "recording.json" {
                do {
                    found += try gir(path)
                } catch {
                    problems.append(Problem(file: path, message: "\(error)"))
                }
            } else if let connect = amazonConnect(file) {
                found.append(.amazonConnect(file: path, contactId: connect.contactId, named: connect.time))
            } else if let dump = baresip(file) {
                found.append(.baresip(file: path, localTime: dump.time, role: dump.role))
            }
        }
        return (found, problems)
    }

    struct Unreadable: Error, CustomStringConvertible {
        let description: String
    }

    /// A GIR `recording.json`: one metadata per media file.
    static func gir(_ path: String) throws -> [Found] {
        guard Collector.isPlainFile(path) else { throw Unreadable(description: "a link or not a regular file; not read") }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= StrictJSON.maxDocumentBytes else {
            throw Unreadable(description: "\(size) bytes; a recording.json is at most \(StrictJSON.maxDocumentBytes)")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw Unreadable(description: "cannot read it") }
        let tree: JSONValue
        do {
            tree = try StrictJSON.tree(data)
        } catch {
            throw Unreadable(description: "not a GIR recording.json: \(error)")
        }
        let media = tree["mediaFiles"]?.array ?? tree["mediaFile"]?.array ?? []
        guard !media.isEmpty else { throw Unreadable(description: "a GIR recording.json without mediaFiles") }
        let directory = (path as NSString).deletingLastPathComponent
        return try media.enumerated().map { index, entry in
            let parameters = entry["parameters"]
            let name =
                entry["mediaId"]?.string
                ?? (entry["mediaPath"]?.string ?? entry["mediaUri"]?.string).map { ($0 as NSString).lastPathComponent }
            guard let name, !name.isEmpty, !name.contains("/"), name != "..", name != "." else {
                throw Unreadable(description: "mediaFiles[\(index)] names no file (mediaId or mediaPath)")
            }
            guard let call = entry["callUUID"]?.string ?? tree["callUUID"]?.string ?? tree["id"]?.string else {
                throw Unreadable(description: "mediaFiles[\(index)] has no callUUID")
            }
            guard let start = (entry["startTime"]?.string ?? tree["startTime"]?.string).flatMap(girTime) else {
                throw Unreadable(
                    description: "mediaFiles[\(index)].startTime is missing or not a time like 2015-09-10T16:58:22.000+0000")
            }
            let metadata = VoiceMetadata(
                interactionId: call, legId: parameters?["connId"]?.string ?? name, startedAt: start,
                agentId: parameters?["agentId"]?.string ?? tree["agentId"]?.string,
                ani: parameters?["ani"]?.string ?? tree["callerPhoneNumber"]?.string,
                dnis: parameters?["dnis"]?.string ?? tree["dialedPhoneNumber"]?.string)
            return .gir(file: (directory as NSString).appendingPathComponent(name), metadata: metadata)
        }
    }

    /// GIR writes zones as `+0000`; the contract's times say `+00:00`.
    static func girTime(_ text: String) -> String? {
        var value = text
        if let match = value.firstMatch(of: /([+-])(\d{2})(\d{2})$/) {
            value = String(value[..<match.range.lowerBound]) + "\(match.1)\(match.2):\(match.3)"
        }
        return Timestamp.date(value) == nil ? nil : value
    }

    /// `{contactId}_{yyyyMMddTHH:mm}_UTC.wav`.
    static func amazonConnect(_ name: String) -> (contactId: String, time: Date)? {
        guard
            let match = name.wholeMatch(
                of: /([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})_(\d{4})(\d{2})(\d{2})T(\d{2}):(\d{2})_UTC\.wav/
            ),
            let time = Timestamp.date("\(match.2)-\(match.3)-\(match.4)T\(match.5):\(match.6):00Z")
        else { return nil }
        return (String(match.1), time)
    }

    /// `dump-2026-12-01-18-42-05-dec.wav`: the local time as `2026-12-01T18:42:05`, and whose voice it is.
    static func baresip(_ name: String) -> (time: String, role: VoiceMetadata.ChannelRole)? {
        guard let match = name.wholeMatch(of: /dump-(\d{4}-\d{2}-\d{2})-(\d{2})-(\d{2})-(\d{2})-(enc|dec)\.wav/) else {
            return nil
        }
        return ("\(match.1)T\(match.2):\(match.3):\(match.4)", match.5 == "enc" ? .agent : .customer)
    }
}
