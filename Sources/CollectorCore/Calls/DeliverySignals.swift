import Foundation
import Synchronization

/// Wakes the agents waiting for call events (`GET /api/v1/agent/call-events?wait=`) when something was
/// delivered to them: at once for events this collector accepted, and through `DeliveryWatch` for
/// events another collector on the same PostgreSQL accepted. The catalog stays the only truth: a wake
/// only makes a waiting request read it again, so a lost or spurious wake costs latency, never events.
public final class DeliverySignals: Sendable {
    private enum Waiter {
        /// Registered, not yet parked (a timer or cancellation arriving now marks it `fired`).
        case pending(agent: String)
        case fired
        /// Released because a newer wait of the same agent came: that request answers at once.
        case superseded
        case parked(agent: String, CheckedContinuation<Void, Never>)
    }

    private struct State {
        /// Moves on every signal: a request that read the catalog before a signal and starts waiting
        /// after it sees the change and reads again instead of sleeping through the event.
        var generation: UInt64 = 0
        var waiters: [UInt64: Waiter] = [:]
        /// The waiters of each agent: a signal touches only those (thousands of agents wait at once).
        var byAgent: [String: Set<UInt64>] = [:]
        var nextId: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    static let waitsPerAgent = 2

    /// Taken before reading the catalog; `wait` returns at once if a signal came since.
    public var ticket: UInt64 { state.withLock { $0.generation } }

    public var waiting: Int { state.withLock { $0.waiters.count } }

    public func signal(_ agents: some Sequence<String>) {
        let wanted = Set(agents)
        guard !wanted.isEmpty else { return }
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.generation &+= 1
            var woken: [CheckedContinuation<Void, Never>] = []
            for agent in wanted {
                for id in state.byAgent[agent] ?? [] {
                    switch state.waiters[id] {
                    case .parked(_, let continuation):
                        state.waiters[id] = .fired
                        woken.append(continuation)
                    case .pending:
                        state.waiters[id] = .fired
                    default:
                        break
                    }
                }
            }
            return woken
        }
        for continuation in woken { continuation.resume() }
    }

    /// Until something is delivered to `agent` (a signal since `ticket`), `timeout` passes or the task
    /// is cancelled (the client went away).
    /// Returns true when a newer wait of the same agent superseded this one: answer now, do not wait again.
    @discardableResult
    public func wait(for agent: String, since ticket: UInt64, timeout: Duration) async -> Bool {
        let (id, released) = state.withLock { state -> (UInt64, CheckedContinuation<Void, Never>?) in
            state.nextId &+= 1
            // An agent holds one long poll (two while one is being replaced): a third makes the oldest
            // answer now, so neither a buggy agent nor a stolen token can pile up waiting connections.
            var released: CheckedContinuation<Void, Never>?
            let mine = (state.byAgent[agent] ?? []).filter {
                switch state.waiters[$0] {
                case .fired, .superseded: false
                default: true
                }
            }
            if mine.count >= Self.waitsPerAgent, let oldest = mine.min() {
                if case .parked(_, let continuation) = state.waiters[oldest] { released = continuation }
                state.waiters[oldest] = .superseded
            }
            state.waiters[state.nextId] = .pending(agent: agent)
            state.byAgent[agent, default: []].insert(state.nextId)
            return (state.nextId, released)
        }
        released?.resume()
        let timer = Task { [weak self] in
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            self?.fire(id)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    guard case .pending = state.waiters[id], state.generation == ticket else { return true }
                    state.waiters[id] = .parked(agent: agent, continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            fire(id)
        }
        timer.cancel()
        return state.withLock { state in
            let last = state.waiters.removeValue(forKey: id)
            state.byAgent[agent]?.remove(id)
            if state.byAgent[agent]?.isEmpty == true { state.byAgent.removeValue(forKey: agent) }
            if case .superseded = last { return true }
            return false
        }
    }

    private func fire(_ id: UInt64) {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            switch state.waiters[id] {
            case .pending:
                state.waiters[id] = .fired
                return nil
            case .parked(_, let continuation):
                state.waiters[id] = .fired
                return continuation
            case .fired, .superseded, nil:
                return nil
            }
        }
        continuation?.resume()
    }
}
