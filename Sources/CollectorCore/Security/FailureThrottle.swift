import Foundation
import Synchronization

/// Counts failed authentications (logins, store Basic credentials, enrolment codes) per key — a
/// client address, a user name — in a sliding window; a key past its limit is refused until its
/// oldest failure leaves the window, without a password being hashed (429 with Retry-After).
/// Memory is bounded: at most `maximumKeys` keys are tracked, the stalest dropped first.
///
/// Per collector, in memory: a restart forgives, and several collectors each count their own
/// share. That bounds guessing to (limit × collectors) per window, enough against a 12-character
/// password or an 80-bit enrolment code; nothing that matters for a recording lives here.
public final class FailureThrottle: Sendable {
    public struct Policy: Sendable, Equatable {
        public var failures: Int
        public var window: TimeInterval
        public init(failures: Int, window: TimeInterval) {
            self.failures = failures
            self.window = window
        }
    }

    public struct Limits: Sendable, Equatable {
        /// One client address: scripts guessing from one place.
        public var perAddress = Policy(failures: 30, window: 300)
        /// One user name from anywhere: guessing spread over many addresses. Higher than per address
        /// so that a stranger cannot lock an admin out as cheaply.
        public var perUser = Policy(failures: 50, window: 300)
        public static let standard = Limits()
        public init() {}
    }

    public let limits: Limits
    private let maximumKeys = 50_000
    private let failures = Mutex<[String: [Date]]>([:])
    private let recorded = Atomic<Int>(0)

    public init(limits: Limits = .standard) {
        self.limits = limits
    }

    public static func address(_ address: String) -> String { "address:\(address)" }
    /// User names come from strangers: the key is their SHA-256, so a huge name costs no memory.
    public static func user(_ name: String) -> String { "user:" + BearerToken.hash(name) }

    private func policy(_ key: String) -> Policy {
        key.hasPrefix("user:") ? limits.perUser : limits.perAddress
    }

    /// Seconds until a refused key may try again; nil when every key may try now.
    public func retryAfter(_ keys: [String], now: Date = Date()) -> Int? {
        failures.withLock { table in
            keys.compactMap { key -> Int? in
                let policy = policy(key)
                guard let times = table[key]?.filter({ now.timeIntervalSince($0) < policy.window }),
                    times.count >= policy.failures, let oldest = times.first
                else { return nil }
                return max(1, Int((policy.window - now.timeIntervalSince(oldest)).rounded(.up)))
            }.max()
        }
    }

    public func recordFailure(_ keys: [String], now: Date = Date()) {
        // Every 1 000 failures, keys whose failures all left the window are dropped.
        let prune = recorded.add(1, ordering: .relaxed).newValue % 1000 == 0
        failures.withLock { table in
            if prune {
                let longest = max(limits.perAddress.window, limits.perUser.window)
                table = table.filter { now.timeIntervalSince($0.value.last ?? .distantPast) < longest }
            }
            if table.count >= maximumKeys {
                let longest = max(limits.perAddress.window, limits.perUser.window)
                table = table.filter { now.timeIntervalSince($0.value.last ?? .distantPast) < longest }
                while table.count >= maximumKeys,
                    let stalest = table.min(by: { ($0.value.last ?? .distantPast) < ($1.value.last ?? .distantPast) })
                {
                    table[stalest.key] = nil
                }
            }
            for key in keys {
                let policy = policy(key)
                var times = (table[key] ?? []).filter { now.timeIntervalSince($0) < policy.window }
                times.append(now)
                table[key] = Array(times.suffix(policy.failures))
            }
        }
    }
}
