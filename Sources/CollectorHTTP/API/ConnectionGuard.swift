import CollectorCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import RecorderCore
import Synchronization

/// The open connections, in total and per client address, shared by every connection's guard.
final class ConnectionCounter: Sendable {
    let limits: ConnectionLimits
    private let counts = Mutex<(total: Int, perAddress: [String: Int])>((0, [:]))
    private let refusals = Atomic<Int>(0)

    init(limits: ConnectionLimits) {
        self.limits = limits
    }

    /// Counts the connection in, or says why it may not be (then nothing was counted).
    func admit(_ address: String) -> String? {
        counts.withLock { counts in
            if counts.total >= limits.maxConnections { return "the collector holds \(counts.total) connections" }
            let fromAddress = counts.perAddress[address, default: 0]
            if fromAddress >= limits.maxConnectionsPerAddress {
                return "\(fromAddress) connections from this address are open"
            }
            counts.total += 1
            counts.perAddress[address] = fromAddress + 1
            return nil
        }
    }

    func release(_ address: String) {
        counts.withLock { counts in
            counts.total -= 1
            let left = counts.perAddress[address, default: 1] - 1
            counts.perAddress[address] = left > 0 ? left : nil
        }
    }

    /// How many refusals so far; the guard logs the first and then every thousandth.
    func refused() -> Int { refusals.add(1, ordering: .relaxed).newValue }
}

/// One per connection, right after the HTTP codec: admits or closes the connection, and closes it
/// when a request head, the next request, or a request body takes too long.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// A request is finished when both its body has been read and its response written, in either
    /// order (a server may answer a 404 before the client has sent its body). Until then a connection
    /// is not idle; after that the idle deadline applies.
    private var requestOpen = false
    private var bodyOpen = false
    private var responseOpen = false
    /// Whether the server asked for more bytes since the last arrived: a body that stalls while the
    /// server itself is not reading (back-pressure from a slow handler) is not the client's fault.
    private var readRequested = false
    /// Body bytes since the stall deadline last moved; 16 KiB per stall period (≥ 0.5 KiB/s with the
    /// default 30 s) is what counts as progress.
    private var bytesSinceArmed = 0
    static let progressBytes = 16 * 1024

    private let counter: ConnectionCounter
    private let logger: Logger
    private var address: String?
    private var deadline: NIODeadline = .distantFuture
    private var timer: Scheduled<Void>?

    init(counter: ConnectionCounter, logger: Logger) {
        self.counter = counter
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        if let reason = counter.admit(address) {
            let refusals = counter.refused()
            if refusals == 1 || refusals % 1000 == 0 {
                logger.warning(
                    "refusing connections",
                    metadata: ["address": "\(address)", "reason": "\(reason)", "refused": "\(refusals)"])
            }
            context.close(promise: nil)
            return
        }
        self.address = address
        arm(context, seconds: counter.limits.headerTimeoutSeconds)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        if let address {
            counter.release(address)
            self.address = nil
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        readRequested = false
        switch unwrapInboundIn(data) {
        case .head:
            bytesSinceArmed = 0
            requestOpen = true
            bodyOpen = true
            responseOpen = true
            arm(context, seconds: counter.limits.bodyStallTimeoutSeconds)
        case .body(let chunk):
            // The stall deadline moves only once a real amount has arrived: a byte every few seconds
            // (a trickle that kept connections open forever, before logging in) does not move it.
            bytesSinceArmed += chunk.readableBytes
            if bytesSinceArmed >= ConnectionGuardHandler.progressBytes {
                arm(context, seconds: counter.limits.bodyStallTimeoutSeconds)
            }
        case .end:
            bodyOpen = false
            finishIfDone(context)
        }
        context.fireChannelRead(data)
    }

    /// A client that stops reading a response (a download left hanging) blocks its writes; once the
    /// channel has not been writable for the body-stall time, the connection is closed.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            if responseOpen && !bodyOpen { deadline = .distantFuture }
        } else if responseOpen {
            arm(context, seconds: counter.limits.bodyStallTimeoutSeconds)
        }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        readRequested = true
        // After a pause the server itself caused (the timer found no read outstanding and stopped),
        // the client gets a full stall period again; otherwise asking for bytes moves nothing.
        if bodyOpen && timer == nil { arm(context, seconds: counter.limits.bodyStallTimeoutSeconds) }
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            responseOpen = false
            finishIfDone(context)
        }
        context.write(data, promise: promise)
    }

    /// While a response is being produced there is no deadline (a handler may take its time); once
    /// body and response are both done, the idle deadline starts.
    private func finishIfDone(_ context: ChannelHandlerContext) {
        if !bodyOpen && !responseOpen {
            requestOpen = false
            arm(context, seconds: counter.limits.idleTimeoutSeconds)
        } else if !bodyOpen {
            deadline = .distantFuture
        }
    }

    /// Moves the deadline; one timer per connection, rescheduled only when it fires early.
    private func arm(_ context: ChannelHandlerContext, seconds: Int) {
        bytesSinceArmed = 0
        deadline = .now() + .seconds(Int64(seconds))
        guard timer == nil else { return }
        schedule(context)
    }

    private func schedule(_ context: ChannelHandlerContext) {
        let loop = context.eventLoop.assumeIsolated()
        timer = loop.scheduleTask(deadline: deadline) { [self] in
            timer = nil
            // Responding (body read, response under way): no deadline while the client takes what is
            // written; the response's end re-arms.
            if requestOpen && !bodyOpen && context.channel.isWritable { return }
            // The body stalls because the server stopped asking for it: wait for the next read().
            if bodyOpen && !readRequested { return }
            if deadline <= .now() {
                context.close(promise: nil)
            } else if deadline != .distantFuture {
                schedule(context)
            }
        }
    }
}
