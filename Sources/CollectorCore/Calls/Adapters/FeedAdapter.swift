import Foundation
import RecorderCore

/// Maps a phone system's own payload onto call events of our contract (`docs/CTI-EVENTS.md`, "The
/// feeds, mapped"). Everything it builds passes the contract's own checks (`checked`), so an adapted
/// event is bounded and visible exactly like one posted in our contract, and a payload that cannot
/// be mapped is refused with the reason. Payloads that carry nothing for recording (a contact queued,
/// an agent's status) map to no event and are counted as ignored.
enum FeedAdapter {
    /// A call event built from a feed, run through the contract's decoder: ids bounded and free of
    /// control characters, times with a zone in 2000–2099.
    static func checked(_ event: CallEvent, feed: String) throws -> CallEvent {
        do {
            return try StrictJSON.decode(CallEvent.self, from: try StrictJSON.encode(event))
        } catch let invalid as StrictJSON.Invalid {
            throw CollectorError(.invalid, "the \(feed) event maps to an invalid call event: \(invalid.message)")
        }
    }

    /// A feed's time as our contract writes it: RFC 3339 with a zone, at most milliseconds (feeds
    /// write up to nanoseconds; the extra digits are dropped). Nil when it is not such a time.
    static func time(_ text: String?) -> String? {
        guard var text, text.utf8.count <= 64 else { return nil }
        if let dot = text.firstIndex(of: ".") {
            let digits = text[text.index(after: dot)...].prefix { $0.isASCII && $0.isNumber }
            if digits.count > 3 {
                let end = text.index(dot, offsetBy: 1 + digits.count)
                text = String(text[...text.index(dot, offsetBy: 3)]) + text[end...]
            }
        }
        return CallEvent.parseTime(text) != nil ? text : nil
    }
}
