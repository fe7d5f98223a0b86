import CollectorCore
import Foundation
import TestSupport
import WebDAV

/// The simulated agent against a collector in this process: enrolled through the collector's own code
/// path, its files put where its upload would have put them in the built-in store.
extension SimulatedAgent {
    /// Puts the sealed bytes and the manifest file where the agent's upload would have put them in the
    /// built-in store.
    func upload(_ segment: Segment, to collector: Collector, bytes: Data? = nil) throws {
        let url = try collector.builtinStore().url(StorePath(components: segment.objectPath))
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try (bytes ?? segment.sealed).write(to: url)
        try segment.manifestBytes.write(to: SimulatedAgent.manifestURL(of: url))
    }

    /// Enrols through the collector's own code path (a one-time code for the node path).
    func enrol(with collector: Collector, actor: Actor) async throws -> String {
        let code = try await collector.agents.makeCode(nodePath: nodePath, by: actor)
        return try await collector.agents.enrol(
            code: code.code, agentId: id, hostname: "\(id).example", signingKey: signer.publicKeyBase64,
            source: "127.0.0.1"
        ).token
    }
}
