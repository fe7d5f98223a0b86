import NIOCore

/// Writes a long answer at the pace its client reads it.
///
/// Hummingbird's body writer does not wait for a slow client behind TLS: its async writer learns
/// the channel is full only after the event loop has run the writes already handed to it, and a
/// producer that never suspends (chunks sliced from memory) hands it the whole answer first. A hundred clients
/// reading a 15 MB recording at 2 KB/s then held 1.6 GB of queued chunks. `writable()` waits on the
/// event loop, behind every write handed over so far, until the channel takes more: each answer
/// holds about one chunk plus the socket's buffers, however slowly it is read.
public struct ConnectionPace: Sendable {
    let channel: (any Channel)?

    /// `channel` nil: no pacing (an answer built outside a server, e.g. through the router in tests).
    public init(_ channel: (any Channel)?) { self.channel = channel }

    /// False once the client has gone (a request waiting its turn need not be worked on).
    public var isConnected: Bool { channel?.isActive ?? true }

    /// Returns once the connection can take another chunk; throws once it is closed.
    public func writable() async throws {
        guard let channel else { return }
        try await channel.eventLoop.flatSubmit { () -> EventLoopFuture<Void> in
            let loop = channel.eventLoop
            // No waiter: a channel of no server of ours (the router's test channel); nothing to pace.
            guard let waiter = try? channel.pipeline.syncOperations.handler(type: WritabilityWaiter.self) else {
                return loop.makeSucceededVoidFuture()
            }
            guard channel.isActive else { return loop.makeFailedFuture(ChannelError.ioOnClosedChannel) }
            if channel.isWritable { return loop.makeSucceededVoidFuture() }
            return waiter.whenWritable(loop)
        }.get()
    }
}

/// One per connection (install it with the server's channel handlers): lets `ConnectionPace` wait
/// for the channel to become writable again, or fail once it closes.
public final class WritabilityWaiter: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = NIOAny
    private var waiting: [EventLoopPromise<Void>] = []

    public init() {}

    func whenWritable(_ loop: any EventLoop) -> EventLoopFuture<Void> {
        let promise = loop.makePromise(of: Void.self)
        waiting.append(promise)
        return promise.futureResult
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { release(nil) }
        context.fireChannelWritabilityChanged()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        release(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        release(ChannelError.ioOnClosedChannel)
    }

    private func release(_ error: (any Error)?) {
        let released = waiting
        waiting = []
        for promise in released {
            if let error { promise.fail(error) } else { promise.succeed() }
        }
    }
}
