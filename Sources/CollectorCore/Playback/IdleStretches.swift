import Foundation
import RecorderCore

/// Where nothing happens in a call: every voice silent and no screen change, for at least `minimum`.
/// The player skips these when asked ("skip idle"). Silence is read from the voice itself (decoded by
/// ffmpeg to 8 kHz, its level every 100 ms); a screen change is any frame but a keyframe that is more
/// than a few bytes (the agent encodes nothing while nothing changes; another encoder's "no change"
/// frame is a few bytes of skipped blocks). Periodic keyframes are refreshes, not changes.
public struct IdleStretches: Codable, Sendable, Equatable {
    public struct Stretch: Codable, Sendable, Equatable {
        public var fromMs: Int64
        public var toMs: Int64

        enum CodingKeys: String, CodingKey {
            case fromMs = "from_ms"
            case toMs = "to_ms"
        }
    }

    /// The call's integration (an interaction id is unique only within one).
    public var integration: String
    public var stretches: [Stretch]
    public var minimumMs: Int64
    /// The level below which a 100 ms window counts as silent, in dBFS.
    public var silenceDB: Double

    enum CodingKeys: String, CodingKey {
        case integration, stretches
        case minimumMs = "minimum_ms"
        case silenceDB = "silence_db"
    }

    static let windowMs: Int64 = 100
    /// An inter frame at most this size changes nothing a person would see.
    static let unchangedFrameBytes = 64
    /// How long a change keeps the screen "busy" around it.
    static let changeMarginMs: Int64 = 500
}

extension Collector {
    /// The call's idle stretches as `access` may see it (the same reach as playing it).
    public func idleStretches(
        _ interactionId: String, integration: String?, for access: Access, minimumMs: Int64 = 3000, silenceDB: Double = -45
    ) async throws -> IdleStretches {
        guard let timeline = try await timeline(interactionId, integration: integration, for: access) else {
            throw CollectorError(.notFound, "no call \(OutsideText.bounded(interactionId, limit: 80)) in the catalog")
        }
        let duration = ([timeline.durationMs] + timeline.voice.map { $0.offsetMs + $0.durationMs }).max() ?? 0
        let windows = Int((duration + IdleStretches.windowMs - 1) / IdleStretches.windowMs)
        guard windows > 0, windows <= 8 * 36_000 else {
            return IdleStretches(integration: timeline.integration, stretches: [], minimumMs: minimumMs, silenceDB: silenceDB)
        }
        var busy = [Bool](repeating: false, count: windows)
        func mark(_ fromMs: Int64, _ toMs: Int64) {
            let first = max(0, Int(fromMs / IdleStretches.windowMs))
            let last = min(windows - 1, Int(toMs / IdleStretches.windowMs))
            if first <= last { for index in first...last { busy[index] = true } }
        }
        // The screen: each change, with a margin either side.
        for screen in timeline.screen {
            let media = try await screenMedia(
                interactionId, integration: timeline.integration, agentId: screen.agentId, sequence: screen.sequence, for: access)
            let bytes = try await Self.onThreadPool { try media.whole() }
            guard let summary = try? WebMFileSummary.parse(bytes, checkingInvariants: false) else { continue }
            for block in summary.blocks where !block.isKeyframe && block.size > IdleStretches.unchangedFrameBytes {
                let at = screen.offsetMs + block.timestampMs
                mark(at - IdleStretches.changeMarginMs, at + IdleStretches.changeMarginMs)
            }
        }
        // The voice: any window louder than the threshold, on any recording.
        if !timeline.voice.isEmpty {
            guard let ffmpeg = Subprocess.find("ffmpeg") else {
                throw CollectorError(.busy, "finding silence needs ffmpeg on the collector's PATH (apt-get install ffmpeg)")
            }
            for voice in timeline.voice {
                try Task.checkCancellation()
                let media = try await voiceMedia(interactionId, integration: timeline.integration, voiceId: voice.id, for: access)
                let input = Subprocess.Input(media)
                // ffmpeg measures each 100 ms itself (800 samples at 8 kHz) and prints one level a line:
                // a few MB of text for 8 hours, not the decoded audio.
                let output = try await Subprocess.onThread {
                    try Subprocess.run(
                        ffmpeg,
                        [
                            "-v", "error", "-nostdin", "-i", "pipe:3", "-ac", "1", "-ar", "8000", "-af",
                            "asetnsamples=n=800:p=0,astats=metadata=1:reset=1:measure_perchannel=none,ametadata=mode=print:key=lavfi.astats.Overall.RMS_level:file=/dev/stdout",
                            "-f", "null", "-",
                        ],
                        inputs: [input], outputLimit: 64 << 20)
                }
                guard output.status == 0 else {
                    throw CollectorError(.unprocessable, "ffmpeg could not read voice recording \(voice.id): \(OutsideText.bounded(output.stderr, limit: 300))")
                }
                var window = 0
                for line in String(decoding: output.stdout, as: UTF8.self).split(separator: "\n") {
                    guard let equals = line.firstIndex(of: "="), line.hasPrefix("lavfi.astats.Overall.RMS_level") else { continue }
                    let level = Double(line[line.index(after: equals)...]) ?? -.infinity
                    if level > silenceDB {
                        let at = voice.offsetMs + Int64(window) * IdleStretches.windowMs
                        mark(at, at + IdleStretches.windowMs - 1)
                    }
                    window += 1
                }
            }
        }
        var stretches: [IdleStretches.Stretch] = []
        var start: Int?
        for index in 0...windows {
            let quiet = index < windows && !busy[index]
            if quiet, start == nil { start = index }
            if !quiet, let first = start {
                let from = Int64(first) * IdleStretches.windowMs
                let to = min(duration, Int64(index) * IdleStretches.windowMs)
                if to - from >= minimumMs { stretches.append(.init(fromMs: from, toMs: to)) }
                start = nil
            }
        }
        return IdleStretches(integration: timeline.integration, stretches: stretches, minimumMs: minimumMs, silenceDB: silenceDB)
    }
}
