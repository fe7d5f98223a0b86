import Foundation
import RecorderCore
import Synchronization

/// An instruction to a running recorder from the call state machine, applied on the recording thread
/// between frames; `applied` runs once it has taken effect (a PCI pause must be in force before the
/// caller tells anyone it is).
public struct RecorderCommand: Sendable {
    public enum Action: Sendable, Equatable {
        /// End the segment in progress here; the next one (keyframe first) belongs to these legs.
        case cut(legs: [CallLeg])
        /// A leg went on or off hold: the interval goes into the manifests of the segments it spans.
        case hold(leg: CallLeg, held: Bool)
        /// Capture nothing until `resume`: the segment in progress ends now.
        case pause(reason: String)
        case resume
    }

    public let action: Action
    let applied: @Sendable () -> Void

    public init(_ action: Action, applied: @escaping @Sendable () -> Void = {}) {
        self.action = action
        self.applied = applied
    }
}

/// Commands waiting for the recording thread.
final class RecorderCommandQueue: Sendable {
    private let pending = Mutex<[RecorderCommand]>([])

    func add(_ command: RecorderCommand) { pending.withLock { $0.append(command) } }

    func take() -> [RecorderCommand] {
        pending.withLock { queue in
            defer { queue.removeAll() }
            return queue
        }
    }
}
