import Foundation
import RecorderCore
import Synchronization

/// The agent's durable identity and hash chain: its Ed25519 key and the head of its manifest chain.
///
/// Files in the state directory (0700): `identity.ed25519` (base64 raw key, 0600, created on first
/// start) and `chain.json` (next sequence number and SHA-256 of the last manifest), replaced atomically
/// and fsync'd after each manifest so a restart continues the chain instead of forking it.
public final class ManifestChain: Sendable {
    public let agentId: String
    public let nodePath: String
    public let signer: ManifestSigner
    private let stateDirectory: URL
    private let head: Mutex<Head>

    struct Head: Codable {
        var nextSequence = 1
        var lastManifestSha256: String?
    }

    public init(stateDirectory path: String, agentId: String, nodePath: String) throws {
        self.agentId = agentId
        self.nodePath = nodePath
        stateDirectory = URL(fileURLWithPath: path, isDirectory: true)
        try DurableFile.makeDirectory(stateDirectory)
        let keyFile = stateDirectory.appendingPathComponent("identity.ed25519")
        if let existing = FileManager.default.contents(atPath: keyFile.path) {
            guard
                let raw = Data(
                    base64Encoded: String(decoding: existing, as: UTF8.self).trimmingCharacters(
                        in: .whitespacesAndNewlines)),
                let signer = try? ManifestSigner(rawPrivateKey: raw)
            else {
                throw OutputError(
                    description:
                        "\(keyFile.path) is not an Ed25519 key written by this agent; move it away to create a new identity (the collector must then re-enrol this agent)"
                )
            }
            self.signer = signer
        } else {
            signer = ManifestSigner.generate()
            try DurableFile.write(Data(signer.rawRepresentation.base64EncodedString().utf8), to: keyFile)
        }
        let chainFile = stateDirectory.appendingPathComponent("chain.json")
        var state = Head()
        if let data = FileManager.default.contents(atPath: chainFile.path) {
            do {
                state = try JSONDecoder().decode(Head.self, from: data)
            } catch {
                throw OutputError(
                    description:
                        "\(chainFile.path) is damaged (\(error)); restore it from backup, or remove it to start a new chain (the collector will flag the break)"
                )
            }
        }
        head = Mutex(state)
    }

    /// Builds, signs and returns the next manifest (file bytes) for a stored sealed file, and moves the
    /// chain head durably. Called for one segment at a time, in order.
    /// Returns the segment's file name (from `fileName(sequence)`) and the manifest's bytes.
    public func append(
        segment: RecordedSegment, sealedBytes: [UInt8], callIds: [String] = [], fileName: (Int) -> String
    ) throws -> (String, Data) {
        try head.withLock { head in
            let segmentFile = fileName(head.nextSequence)
            let manifest = SegmentManifest(
                agentId: agentId, nodePath: nodePath, callIds: callIds, sequence: head.nextSequence,
                segmentFile: segmentFile,
                firstFrameTime: SegmentManifest.timestamp(unixNanos: segment.startWallTimeNanos),
                lastFrameTime: SegmentManifest.timestamp(
                    unixNanos: segment.startWallTimeNanos + segment.lastFrameOffsetMs * 1_000_000),
                durationMs: Int(segment.durationMs.rounded()), frameCount: segment.frameCount, width: segment.width,
                height: segment.height, endReason: segment.endReason.rawValue, sealedSize: sealedBytes.count,
                sealedSha256: ManifestVerification.sha256Hex(sealedBytes),
                previousManifestSha256: head.lastManifestSha256)
            let bytes = try signer.sign(manifest).fileBytes()
            var next = head
            next.nextSequence += 1
            next.lastManifestSha256 = ManifestVerification.sha256Hex(bytes)
            try DurableFile.write(
                try JSONEncoder().encode(next), to: stateDirectory.appendingPathComponent("chain.json"))
            head = next
            return (segmentFile, bytes)
        }
    }
}

/// Crash-safe files: write to a temporary name, fsync, rename, fsync the directory; 0600 files, 0700 dirs.
public enum DurableFile {
    public static func makeDirectory(_ url: URL) throws {
        do {
            try FileManager.default.createDirectory(
                at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw OutputError(description: "cannot create directory \(url.path): \(error.localizedDescription)")
        }
    }

    public static func write(_ data: Data, to url: URL) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw OutputError(description: "cannot write \(url.path): \(String(cString: strerror(errno)))")
        }
        var failure: String?
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno))
                    return
                }
                offset += written
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        close(fd)
        if let failure {
            unlink(temporary.path)
            throw OutputError(description: "cannot write \(url.path): \(failure)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary.path)
            throw OutputError(description: "cannot write \(url.path): \(reason)")
        }
        let directory = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }
}
