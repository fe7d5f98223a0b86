import CollectorCore
import Foundation
import Hummingbird
import NIOCore
import RecorderCore
import WebDAV

/// Per-request state: who is calling (after authentication) and from where (for the audit log).
public struct CollectorContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var remoteAddress: String
    public var user: Users.User?
    /// The web app's session token, when the request came with its cookie.
    public var webSession: String?
    public var agent: Agents.Agent?
    /// Long answers (recordings, exports, store downloads) are written as fast as the client reads.
    public let pace: ConnectionPace

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
        // A request arrives on an open connection; the router's test channel never opened.
        pace = ConnectionPace(source.channel.isActive ? source.channel : nil)
    }

    /// JSON API bodies are small; anything bigger is refused with 413 before it is parsed.
    public var maxUploadSize: Int { 256 * 1024 }

    /// Stable key order and readable paths (no `\/`) in every JSON response.
    public var responseEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// What the signed-in user may see.
    var access: Access { Access(user!) }

    var actor: Actor {
        Actor(name: user.map { "user:\($0.username)" } ?? "anonymous", source: remoteAddress)
    }
}
