import CollectorCore
import Foundation
import HTTPTypes
import Hummingbird
import RecorderCore
import Synchronization

/// Voice recordings in from the phone system (`PUT /api/v1/voice/{interactionId}/{legId}`, an
/// integration's token, the audio as the body, the metadata in `X-Voice-*` headers), and an
/// interaction's recordings for admins (`GET /api/v1/calls/{interactionId}/voice`).
struct VoiceAPI {
    let collector: Collector
    let calls: CallAPI
    /// Bodies are received into memory within this many bytes in all (their announced lengths): many
    /// small recordings at once, or two of the largest. A recording that does not fit is told to come
    /// back; a slow sender holds only its own length, never a turn that others need.
    let receiving = IntakeBudget(bytes: 2 * Int64(Collector.maximumVoiceBytes))
    /// Checking and sealing takes a core each: this many at once, the others wait their turn.
    let sealing = AsyncTurn(limit: 2)

    func register(on router: Router<CollectorContext>) {
        router.put("api/v1/voice/:interaction/:leg") { request, context -> EditedResponse<VoiceRecord> in
            let integration = try await calls.authenticate(request, source: context.remoteAddress)
            let metadata = try Self.metadata(request, context)
            // The length first: a recording too large is refused before it holds a slot, and the length
            // bounds how long the body may take.
            guard let length = request.headers[.contentLength].flatMap({ Int($0) }) else {
                throw CollectorError(.invalid, "send the recording with a Content-Length (a file's size is known)")
            }
            guard length <= Collector.maximumVoiceBytes else {
                throw CollectorError(.tooLarge, "a voice recording is at most \(Collector.maximumVoiceBytes >> 20) MB")
            }
            guard receiving.take(Int64(length)) else {
                throw CollectorError(
                    .busy, "the collector is receiving other voice recordings (\(receiving.limit >> 20) MB at once); retry in a few seconds",
                    retryAfterSeconds: 5)
            }
            defer { receiving.give(Int64(length)) }
            let body = try await Self.collect(request, length: length)
            let ingested = try await sealing.run {
                try await collector.ingestVoice(
                    Array(buffer: body), contentType: request.headers[.contentType], metadata: metadata,
                    integration: integration.name, deliveredBy: "put")
            }
            return EditedResponse(status: ingested.added ? .created : .ok, response: ingested.record)
        }
        let catalog = router.group("api/v1/calls").add(middleware: SessionAuthentication(collector: collector))
        catalog.get(":interaction/voice") { _, context in
            Items(items: try await collector.voice.list(interactionId: try CallAPI.interaction(context)))
        }
    }

    /// A sender slower than this is dropped: a trickle must not hold memory (and the intake's budget)
    /// for hours.
    static let slowestBytesPerSecond = 64 * 1024
    /// The grace a sender has before the floor applies (a slow start, a TLS handshake, a retry).
    static let graceSeconds = 30

    /// The body, as long as it keeps coming at `slowestBytesPerSecond` on average after the first
    /// 30 s: checked every second while it arrives, so a sender that announced 512 MB and trickles is
    /// dropped within a minute, not after the 2.3 h its length would allow at the floor.
    static func collect(_ request: Request, length: Int) async throws -> ByteBuffer {
        let received = ReceivedBytes()
        let started = ContinuousClock.now
        return try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask {
                var body = ByteBuffer()
                body.reserveCapacity(min(length, Collector.maximumVoiceBytes))
                for try await chunk in request.body {
                    guard body.readableBytes + chunk.readableBytes <= Collector.maximumVoiceBytes else {
                        throw CollectorError(.tooLarge, "a voice recording is at most \(Collector.maximumVoiceBytes >> 20) MB")
                    }
                    var chunk = chunk
                    body.writeBuffer(&chunk)
                    received.count = body.readableBytes
                }
                return body
            }
            group.addTask {
                while true {
                    try await Task.sleep(for: .seconds(1))
                    let elapsed = Int((ContinuousClock.now - started).components.seconds)
                    let owed = max(0, elapsed - graceSeconds) * slowestBytesPerSecond
                    if received.count < min(owed, length) { return nil }
                }
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let body = first else {
                let got = received.count
                throw CollectorError(
                    .invalid,
                    "the recording arrived too slowly: \(got) of \(length) bytes in \(Int((ContinuousClock.now - started).components.seconds)) s; after \(graceSeconds) s a sender must keep \(slowestBytesPerSecond / 1024) KiB/s on average")
            }
            return body
        }
    }

    static let start = HTTPField.Name("X-Voice-Start")!
    static let agent = HTTPField.Name("X-Voice-Agent")!
    static let direction = HTTPField.Name("X-Voice-Direction")!
    static let ani = HTTPField.Name("X-Voice-ANI")!
    static let dnis = HTTPField.Name("X-Voice-DNIS")!
    static let sipCallId = HTTPField.Name("X-Voice-SIP-Call-ID")!
    static let channels = HTTPField.Name("X-Voice-Channels")!

    /// The path's ids and the headers' metadata, each checked; errors name the header.
    static func metadata(_ request: Request, _ context: CollectorContext) throws -> VoiceMetadata {
        func decoded(_ name: String) throws -> String {
            let raw = try context.parameters.require(name)
            guard let value = raw.removingPercentEncoding else {
                throw CollectorError(.invalid, "the \(name) id in the path is not valid percent-encoding")
            }
            return value
        }
        let headers = request.headers
        guard let start = headers[Self.start] else {
            throw CollectorError(
                .invalid, "X-Voice-Start is required: when the recording's first sample was taken, e.g. 2026-11-23T12:00:00.250Z")
        }
        var metadata = VoiceMetadata(
            interactionId: try decoded("interaction"), legId: try decoded("leg"), startedAt: start,
            agentId: headers[Self.agent], ani: headers[Self.ani], dnis: headers[Self.dnis],
            sipCallId: headers[Self.sipCallId])
        if let direction = headers[Self.direction] {
            guard let value = CallDirection(rawValue: direction) else {
                throw CollectorError(
                    .invalid, "X-Voice-Direction must be inbound, outbound or internal, found \"\(OutsideText.bounded(direction, limit: 40))\"")
            }
            metadata.direction = value
        }
        if let layout = headers[Self.channels] {
            metadata.channelLayout = try layout.split(separator: ",").map { role in
                let name = role.trimmingCharacters(in: .whitespaces)
                guard let value = VoiceMetadata.ChannelRole(rawValue: name) else {
                    throw CollectorError(
                        .invalid,
                        "X-Voice-Channels names one role per channel, left to right, from agent, customer, mixed and unknown; found \"\(OutsideText.bounded(name, limit: 40))\""
                    )
                }
                return value
            }
        }
        let headerNames = [
            "interaction_id": "the interaction id in the path", "leg_id": "the leg id in the path",
            "started_at": "X-Voice-Start", "agent_id": "X-Voice-Agent", "ani": "X-Voice-ANI", "dnis": "X-Voice-DNIS",
            "sip_call_id": "X-Voice-SIP-Call-ID",
        ]
        return try metadata.validated { headerNames[$0] ?? $0 }
    }
}

/// Bytes in memory with a ceiling; `take` fails instead of waiting.
final class IntakeBudget: Sendable {
    private let used = Mutex<Int64>(0)
    let limit: Int64

    init(bytes: Int64) { self.limit = bytes }

    func take(_ bytes: Int64) -> Bool {
        used.withLock {
            guard $0 + bytes <= limit else { return false }
            $0 += bytes
            return true
        }
    }

    func give(_ bytes: Int64) { used.withLock { $0 -= bytes } }
}

extension VoiceRecord: ResponseEncodable {}

/// How much of a body has arrived, read by the watchdog while the receiver writes it.
final class ReceivedBytes: Sendable {
    private let value = Atomic<Int>(0)
    var count: Int {
        get { value.load(ordering: .relaxed) }
        set { value.store(newValue, ordering: .relaxed) }
    }
}
