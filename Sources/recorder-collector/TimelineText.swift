import CollectorCore
import Foundation

extension CallCommand.Show {
    /// The timeline for people: offsets as m:ss.mmm from the call's start, one line per item.
    static func printTimeline(_ timeline: CallTimeline) {
        func clock(_ ms: Int64?) -> String {
            guard let ms else { return "now" }
            let sign = ms < 0 ? "-" : ""
            let value = abs(ms)
            return "\(sign)\(value / 60_000):\(String(format: "%02d", (value / 1000) % 60)).\(String(format: "%03d", value % 1000))"
        }
        print("timeline (collector clock, from \(timeline.startedAt), \(clock(timeline.durationMs)) long):")
        if timeline.calls.count > 1 {
            for call in timeline.calls {
                let joined = call.match.method == "self" ? "first" : "joined by \(call.match.method) (\(call.match.confidence))"
                print("  call \(call.interactionId) of \(call.integration), \(joined)")
            }
        }
        for leg in timeline.legs {
            print("  leg \(leg.legId) \(clock(leg.fromMs))–\(clock(leg.toMs)) agent \(leg.agent ?? "?") at \(leg.workstation ?? "no workstation")")
        }
        for voice in timeline.voice {
            print(
                "  voice \(voice.legId) \(clock(voice.offsetMs))–\(clock(voice.offsetMs + voice.durationMs)) \(voice.codec) \(voice.channels.joined(separator: ",")) by \(voice.match.method) ±\(voice.uncertaintyMs) ms"
            )
        }
        for screen in timeline.screen {
            let uncertainty = screen.uncertaintyMs.map { "±\($0) ms" } ?? "clock never measured"
            let correction = screen.clockCorrectionMs.map { ", clock corrected by \($0) ms" } ?? ""
            print(
                "  screen \(screen.agentId) #\(screen.sequence) \(clock(screen.offsetMs))–\(clock(screen.offsetMs + screen.durationMs)) by \(screen.match.method) \(uncertainty)\(correction)"
            )
        }
        for band in timeline.bands {
            print("  \(band.kind) \(band.legId ?? "-") \(clock(band.fromMs))–\(clock(band.toMs))\(band.detail.map { " (\($0))" } ?? "")")
        }
        let health =
            timeline.sync.maxUncertaintyMs.map { "largest uncertainty \($0) ms" }
            ?? "unknown: never measured the clock of \(timeline.sync.unmeasured.joined(separator: ", "))"
        print("  sync: \(health), \(timeline.sync.withinLimit ? "within" : "beyond") \(timeline.sync.limitMs) ms")
        for item in timeline.setAside { print("  set aside: \(item.kind) \(item.id): \(item.reason)") }
    }
}
