import Foundation
import RecorderCore

/// What every password- or code-checking route does around its check: refuse a client or user name
/// that failed too often (429 with Retry-After, no hash computed), and after a failure count it and
/// audit it with bounded fields. Shared by login, the store's Basic credentials and enrolment.
public struct AuthenticationGuards: Sendable {
    public let throttle: FailureThrottle
    package let collector: Collector

    public init(collector: Collector, throttle: FailureThrottle = FailureThrottle()) {
        self.collector = collector
        self.throttle = throttle
    }

    public static func keys(address: String, user: String? = nil) -> [String] {
        [FailureThrottle.address(address)] + (user.map { [FailureThrottle.user($0)] } ?? [])
    }

    /// Throws 429 when any of `keys` is over its limit, after holding the answer for a second: a
    /// throttled client on a kept-alive connection otherwise gets its 429s as fast as it asks (20
    /// such clients sent ~6 000 requests/s and slowed agents' uploads from 130/s to 31/s on this
    /// machine). The wait holds a suspended task, no thread; connection caps bound how many.
    package func check(_ keys: [String], what: String) async throws {
        if let seconds = throttle.retryAfter(keys) {
            try? await Task.sleep(for: .seconds(1))
            throw CollectorError(
                .throttled, "too many failed \(what) attempts from here; try again in \(seconds) s",
                retryAfterSeconds: seconds)
        }
    }

    /// Counts the failure, audits it (`action`, e.g. `store.basic_failed`), and audits once more
    /// (`auth.throttled`) when this failure is the one that trips the throttle.
    package func failed(_ keys: [String], action: String, target: String, detail: String = "", source: String) async {
        throttle.recordFailure(keys)
        let actor = Actor(name: "anonymous", source: source)
        try? await AuditLog.record(action, target: target, detail: detail, by: actor, in: collector.catalog)
        if let seconds = throttle.retryAfter(keys) {
            try? await AuditLog.record(
                "auth.throttled", target: target, detail: "\(keys.joined(separator: ", ")) refused for \(seconds) s",
                by: actor, in: collector.catalog)
        }
    }
}
