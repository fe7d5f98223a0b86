import Synchronization

/// Cuts running transfers short (uploads, manifest reports, heartbeats): set once (at shutdown, after
/// a grace period) and every transfer that sees it ends with an error, leaving its segment in the
/// spool for the next start. A stalled server can therefore never hold the agent's stop past the
/// grace period.
public final class TransferCancellation: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    public func abort() { flag.store(true, ordering: .relaxed) }

    public var isAborted: Bool { flag.load(ordering: .relaxed) }
}
