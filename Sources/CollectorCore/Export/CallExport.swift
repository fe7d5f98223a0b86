import Crypto
import Foundation
import RecorderCore

/// One WebM file of a whole call, made by the collector: the screen of the agent on each leg (VP8,
/// copied from the sealed segments, never re-encoded) and every voice recording mixed into one Opus
/// track, on the call's clock, so a player anywhere shows them in sync. Where no screen was recorded
/// (a PCI pause, before or after a screen) a placeholder frame says so; no frame is left standing.
///
/// The voice is decoded, mixed and encoded by ffmpeg, fed on pipes (`Subprocess`); the video frames
/// are muxed by our own writer (`WebMCallWriter`). Everything stays in memory.
public struct CallExport: Sendable {
    public var bytes: [UInt8]
    public var fileName: String
    public var sha256: String
    public var durationMs: Int64
    public var videoFrames: Int
    public var audioPackets: Int

    /// The most screen a call export carries (its frames are held in memory while it is made, and
    /// the file once more as it is written).
    static let maximumVideoBytes = 512 << 20
    /// The longest call exported (a call stuck open for days is not a file anyone can use).
    static let longestMs: Int64 = 8 * 3600 * 1000
    /// The most voice recordings mixed into one export (each is a pipe and a thread while ffmpeg reads).
    static let mostVoices = 32
    /// A frame missing for longer than this is a gap, shown as one (two frame intervals at 5 fps).
    static let gapToleranceMs: Int64 = 400

    struct Frame {
        var timestampMs: Int64
        var bytes: [UInt8]
        var isKeyframe: Bool
        /// Until when it is live: the end of its own screen segment (a placeholder: the next frame).
        var liveUntilMs: Int64
    }
}

extension Collector {
    /// The call as one WebM file, as `access` may see it (out of reach: 404).
    public func exportCall(_ interactionId: String, integration: String?, for access: Access) async throws -> CallExport {
        guard let ffmpeg = Subprocess.find("ffmpeg") else {
            throw CollectorError(.busy, "exporting a call needs ffmpeg on the collector's PATH (apt-get install ffmpeg)")
        }
        guard access.mayExport else {
            throw CollectorError(.forbidden, "agents play their calls; supervisors, QA and admins export them")
        }
        guard let timeline = try await timeline(interactionId, integration: integration, for: access) else {
            throw CollectorError(.notFound, "no call \(OutsideText.bounded(interactionId, limit: 80)) in the catalog")
        }
        guard timeline.endedAt != nil else {
            throw CollectorError(.conflict, "call \(interactionId) is still going on; export it once it has ended")
        }
        let duration = ([timeline.durationMs] + timeline.voice.map { $0.offsetMs + $0.durationMs }
            + timeline.screen.map { $0.offsetMs + $0.durationMs }).max() ?? 0
        guard duration > 0 else { throw CollectorError(.unprocessable, "call \(interactionId) has no length to export") }
        guard duration <= CallExport.longestMs else {
            throw CollectorError(
                .tooLarge, "call \(interactionId) lasts \(duration / 60_000) min; exports are of calls up to \(CallExport.longestMs / 3_600_000) h")
        }
        guard timeline.voice.count <= CallExport.mostVoices else {
            throw CollectorError(
                .tooLarge, "call \(interactionId) has \(timeline.voice.count) voice recordings; an export mixes at most \(CallExport.mostVoices)")
        }

        let screens = Self.exportedScreens(timeline)
        let size = screens.first.map { ($0.width, $0.height) } ?? (1280, 720)
        var frames = try await screenFrames(screens, timeline: timeline, interactionId: interactionId, access: access)
        frames = try await withPlaceholders(frames, screens: screens, timeline: timeline, duration: duration, size: size, ffmpeg: ffmpeg)
        let audio = try await mixedVoice(timeline, interactionId: interactionId, duration: duration, access: access, ffmpeg: ffmpeg)

        let start = CallEvent.parseTime(timeline.startedAt) ?? Date()
        let title = OutsideText.bounded("\(timeline.integration)/\(timeline.interactionId)", limit: 200)
        let shown = frames
        frames = []
        // Muxing an hour is seconds of CPU: on a thread of its own, not the server's pool.
        let (bytes, videoFrames, audioPackets) = try await Subprocess.onThread {
            try Self.mux(shown, audio: audio, size: size, start: start, title: title, duration: duration)
        }
        // 2026-12-01T10:00:00.250Z as 20261201T100000Z: the second the call began, in UTC.
        let stamp = String(Timestamp.string(start).prefix(19)).replacingOccurrences(of: ":", with: "")
            .replacingOccurrences(of: "-", with: "") + "Z"
        return CallExport(
            bytes: bytes, fileName: Self.fileName("\(timeline.interactionId)_\(stamp)", extension: "webm"),
            sha256: SHA256.hash(data: bytes).hexString, durationMs: duration, videoFrames: videoFrames,
            audioPackets: audioPackets)
    }

    /// Both tracks in time order (at equal times, the audio first), into one file.
    static func mux(
        _ frames: [CallExport.Frame], audio: OggOpusPackets?, size: (Int, Int), start: Date, title: String, duration: Int64
    ) throws -> (bytes: [UInt8], videoFrames: Int, audioPackets: Int) {
        var writer = try WebMCallWriter(
            width: size.0, height: size.1,
            audio: audio.map { .init(opusHead: $0.head, channels: $0.channels, preSkipSamples: $0.preSkip) },
            startWallTimeNanos: Int64(start.timeIntervalSince1970 * 1_000_000_000), title: title)
        var samples = 0
        var packets = audio?.packets[...] ?? []
        var lastAudio: Int64 = -1
        func appendAudio(upTo limit: Int64) throws {
            while let packet = packets.first {
                // Two packets of 2.5 ms may fall on one millisecond; the later one moves up by one.
                let stamp = max(Int64(samples / 48), lastAudio + 1)
                guard stamp <= limit else { return }
                try writer.append(.audio, packet.data, timestampMs: stamp, isKeyframe: true)
                lastAudio = stamp
                samples += packet.samples
                packets = packets.dropFirst()
            }
        }
        for frame in frames {
            try appendAudio(upTo: frame.timestampMs)
            try writer.append(.video, frame.bytes, timestampMs: frame.timestampMs, isKeyframe: frame.isKeyframe)
        }
        try appendAudio(upTo: .max)
        let counts = (writer.videoFrames, writer.audioPackets)
        return (try writer.finish(durationMs: Double(duration)), counts.0, counts.1)
    }

    /// The segments the export shows: per workstation, the monitor of its first segment (as the player
    /// opens), in time order.
    static func exportedScreens(_ timeline: CallTimeline) -> [CallTimeline.Screen] {
        let ordered = timeline.screen.sorted { ($0.offsetMs, $0.agentId, $0.sequence) < ($1.offsetMs, $1.agentId, $1.sequence) }
        var monitor: [String: String] = [:]
        for screen in ordered where monitor[screen.agentId] == nil { monitor[screen.agentId] = screen.monitor }
        return ordered.filter { monitor[$0.agentId] == $0.monitor }
    }

    /// The workstation whose screen the call shows at `ms`: of the legs live then, the latest begun (as
    /// the player chooses).
    static func preferredWorkstation(_ timeline: CallTimeline, at ms: Int64) -> String? {
        timeline.legs.filter { $0.workstation != nil && $0.fromMs <= ms && ($0.toMs ?? .max) > ms }
            .max { $0.fromMs < $1.fromMs }?.workstation
    }

    /// Every frame shown, on the call's clock. Where two screens overlap, the preferred workstation's
    /// frames are taken; a screen taken up again starts at its next keyframe (the frames before it
    /// depend on ones left out).
    func screenFrames(
        _ screens: [CallTimeline.Screen], timeline: CallTimeline, interactionId: String, access: Access
    ) async throws -> [CallExport.Frame] {
        var frames: [CallExport.Frame] = []
        var total = 0
        for (index, screen) in screens.enumerated() {
            let media = try await screenMedia(
                interactionId, integration: timeline.integration, agentId: screen.agentId, sequence: screen.sequence, for: access)
            let bytes = try await Self.onThreadPool { try media.whole() }
            let summary: WebMFileSummary
            do {
                summary = try WebMFileSummary.parse(bytes, checkingInvariants: false)
            } catch {
                throw CollectorError(.unprocessable, "screen segment \(screen.agentId) #\(screen.sequence) cannot be read for the export: \(error)")
            }
            let others = screens.enumerated().filter { $0.offset != index }.map(\.element)
            var waitingForKeyframe = true
            for block in summary.blocks {
                let at = screen.offsetMs + block.timestampMs
                // Before the call began: left out, and what follows waits for a keyframe.
                guard at >= 0 else {
                    waitingForKeyframe = true
                    continue
                }
                let contested = others.contains { $0.offsetMs <= at && $0.offsetMs + $0.durationMs > at }
                let shown = !contested || Self.preferredWorkstation(timeline, at: at) == screen.agentId
                guard shown else {
                    waitingForKeyframe = true
                    continue
                }
                if waitingForKeyframe && !block.isKeyframe { continue }
                waitingForKeyframe = false
                total += block.size
                guard total <= CallExport.maximumVideoBytes else {
                    throw CollectorError(.tooLarge, "this call has more than \(CallExport.maximumVideoBytes >> 20) MB of screen; export a shorter call")
                }
                frames.append(
                    .init(
                        timestampMs: at, bytes: Array(bytes[block.frameRange]), isKeyframe: block.isKeyframe,
                        liveUntilMs: screen.offsetMs + screen.durationMs))
            }
        }
        frames.sort { $0.timestampMs < $1.timestampMs }
        // Frames of two screens on one millisecond: the first stays (each track's times must increase).
        var kept: [CallExport.Frame] = []
        for frame in frames where frame.timestampMs > (kept.last?.timestampMs ?? -1) { kept.append(frame) }
        return kept
    }

    /// Puts a placeholder frame wherever no screen is shown for longer than the tolerance: at the start,
    /// between screens, after the last, and where a screen gave way to one that had not yet reached a
    /// keyframe.
    func withPlaceholders(
        _ frames: [CallExport.Frame], screens: [CallTimeline.Screen], timeline: CallTimeline, duration: Int64,
        size: (Int, Int), ffmpeg: String
    ) async throws -> [CallExport.Frame] {
        // Where no frame is live: from the end of one frame's life to the next frame.
        var gaps: [(from: Int64, to: Int64)] = []
        var shownUntil: Int64 = 0
        for frame in frames {
            if frame.timestampMs - shownUntil > CallExport.gapToleranceMs || (gaps.isEmpty && shownUntil == 0 && !frame.isKeyframe) {
                gaps.append((shownUntil, frame.timestampMs))
            }
            // A frame is live until its own segment ends or, when a screen gave way, the next frame.
            shownUntil = max(frame.timestampMs, frame.liveUntilMs)
        }
        if duration - shownUntil > CallExport.gapToleranceMs || frames.isEmpty { gaps.append((min(shownUntil, duration), duration)) }
        guard !gaps.isEmpty else { return frames }
        var placeholders: [String: [UInt8]] = [:]
        var cards: [CallExport.Frame] = []
        var taken = Set(frames.map(\.timestampMs))
        for gap in gaps {
            let paused = timeline.bands.contains {
                $0.kind == "pause" && $0.fromMs <= gap.from + CallExport.gapToleranceMs && ($0.toMs ?? .max) > gap.from
            }
            let text = paused ? "Recording paused - nothing was recorded here" : "No screen was recorded for this part of the call"
            if placeholders[text] == nil {
                placeholders[text] = try await Subprocess.onThread { try Self.placeholderFrame(text, size: size, ffmpeg: ffmpeg) }
            }
            // Again every second until the screen comes back, so a player or a seek landing anywhere
            // in the gap shows the card (not the next frame, nor black).
            var stamp = gap.from
            repeat {
                // Times must increase: a card on a frame's millisecond goes just after it.
                while taken.contains(stamp) { stamp += 1 }
                taken.insert(stamp)
                cards.append(.init(timestampMs: stamp, bytes: placeholders[text]!, isKeyframe: true, liveUntilMs: stamp + 1000))
                stamp += 1000
            } while stamp < gap.to
        }
        return (frames + cards).sorted { $0.timestampMs < $1.timestampMs }
    }

    /// One VP8 keyframe of the placeholder card, made by ffmpeg at the export's size. Without a font
    /// (drawtext fails), a plain card.
    static func placeholderFrame(_ text: String, size: (Int, Int), ffmpeg: String) throws -> [UInt8] {
        let card = "color=c=0x1b2330:s=\(size.0)x\(size.1):r=5:d=0.2"
        let words = "drawtext=text='\(text)':fontcolor=0xe8ecf2:fontsize=\(max(12, size.1 / 24)):x=(w-text_w)/2:y=(h-text_h)/2"
        for filter in [["-vf", words], []] {
            // IVF: a 32-byte file header, then each frame after its 12-byte header (size, time).
            let output = try Subprocess.run(
                ffmpeg, ["-v", "error", "-f", "lavfi", "-i", card] + filter + ["-frames:v", "1", "-c:v", "libvpx", "-b:v", "1M", "-f", "ivf", "pipe:1"],
                outputLimit: 16 << 20)
            let bytes = output.stdout
            guard output.status == 0, bytes.count > 44, bytes.starts(with: Array("DKIF".utf8)) else { continue }
            let size = Int(bytes[32]) | Int(bytes[33]) << 8 | Int(bytes[34]) << 16 | Int(bytes[35]) << 24
            guard size > 0, 44 + size <= bytes.count, bytes[44] & 0x01 == 0 else { continue }
            return Array(bytes[44..<(44 + size)])
        }
        throw CollectorError(.unprocessable, "ffmpeg could not make the placeholder frame (is libvpx in this ffmpeg?)")
    }

    /// Every voice recording of the timeline at its place on the call's clock, mixed to one mono Opus
    /// track as long as the call; nil when the call has no voice.
    func mixedVoice(
        _ timeline: CallTimeline, interactionId: String, duration: Int64, access: Access, ffmpeg: String
    ) async throws -> OggOpusPackets? {
        guard !timeline.voice.isEmpty else { return nil }
        var inputs: [Subprocess.Input] = []
        var arguments = ["-v", "error", "-nostdin"]
        var chains: [String] = []
        for (index, voice) in timeline.voice.enumerated() {
            let media = try await voiceMedia(interactionId, integration: timeline.integration, voiceId: voice.id, for: access)
            // Fed to ffmpeg a chunk at a time: six hour-long voices are not held whole at once.
            inputs.append(Subprocess.Input(media))
            arguments += ["-i", "pipe:\(3 + index)"]
            let trim = voice.offsetMs < 0 ? "atrim=start=\(Double(-voice.offsetMs) / 1000)," : ""
            chains.append("[\(index):a]\(trim)aresample=48000,aformat=channel_layouts=mono,adelay=delays=\(max(0, voice.offsetMs)):all=1[v\(index)]")
        }
        let seconds = String(format: "%.3f", Double(duration) / 1000)
        let mix = inputs.count == 1
            ? "[v0]apad=whole_dur=\(seconds),atrim=duration=\(seconds)[out]"
            : (0..<inputs.count).map { "[v\($0)]" }.joined()
                + "amix=inputs=\(inputs.count):duration=longest:normalize=0,apad=whole_dur=\(seconds),atrim=duration=\(seconds)[out]"
        arguments += [
            "-filter_complex", (chains + [mix]).joined(separator: ";"), "-map", "[out]", "-c:a", "libopus", "-b:a", "32k",
            "-ac", "1", "-ar", "48000", "-f", "ogg", "pipe:1",
        ]
        let (given, command) = (inputs, arguments)
        let output = try await Subprocess.onThread { try Subprocess.run(ffmpeg, command, inputs: given, outputLimit: 512 << 20) }
        guard output.status == 0 else {
            throw CollectorError(.unprocessable, "ffmpeg could not mix the call's voice: \(OutsideText.bounded(output.stderr, limit: 400))")
        }
        do {
            return try OggOpusPackets(output.stdout)
        } catch {
            throw CollectorError(.unprocessable, "\(error)")
        }
    }
}
