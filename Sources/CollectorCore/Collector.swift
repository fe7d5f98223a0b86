import Crypto
import Foundation
import Logging

/// The collector's state and services over one catalog, shared by the HTTP API and the admin CLI so
/// both apply the same validation and write the same audit entries.
public struct Collector: Sendable {
    public let catalog: Catalog
    public let users: Users
    public let storageTargets: StorageTargets
    public let nodePaths: NodePaths
    public let recordingKeys: RecordingKeys
    public let agents: Agents
    public let segments: Segments
    public let heartbeats: Heartbeats
    public let agentStorageCredentials: AgentStorageCredentials
    public let integrations: Integrations
    public let callEvents: CallEvents
    public let agentIdentities: AgentIdentities
    public let calls: CallCatalog
    public let voice: VoiceRecordings
    public var reviewDefinitions: ReviewDefinitions { ReviewDefinitions(catalog: catalog) }
    public var reviews: CallReviews { CallReviews(catalog: catalog, definitions: reviewDefinitions) }
    public var savedSearches: SavedSearches { SavedSearches(catalog: catalog) }
    public var clockOffsets: ClockOffsets { ClockOffsets(catalog: catalog) }
    /// Wakes this process's agents waiting for call events (`DeliverySignals`).
    public let deliverySignals = DeliverySignals()
    /// Recordings opened for playback, in memory only (`PlaybackMedia`).
    let playbackCache = PlaybackCache()
    let playbackOpens = PlaybackOpens()
    public let dataDirectory: URL
    /// Built-in recordings larger than this are played by ranges, never held whole (`PlaintextSource`);
    /// tests lower it to exercise that path on small files.
    public var rangedThreshold = Collector.rangedPlaybackBytes
    /// Signs the audit chain's checkpoints (`AuditChain`); derived from the secrets key, never stored.
    public let auditKey: SymmetricKey
    /// Makes each web session's CSRF token (`WebSession`); derived from the secrets key, never stored.
    public let csrfKey: SymmetricKey

    /// Opens (and migrates) the catalog and the secrets key of `dataDirectory` (created 0700).
    public static func open(
        dataDirectory: URL, database: DatabaseLocation? = nil, hashing: PasswordHash.Parameters = .standard,
        recordingKeyBits: Int = 3072, logger: Logger
    ) async throws -> Collector {
        try FileManager.default.createDirectory(
            at: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let location = database ?? .sqlite(path: dataDirectory.appendingPathComponent("catalog.sqlite").path)
        let secrets = try SecretBox.loadOrCreate(at: dataDirectory.appendingPathComponent("secrets.key"))
        let catalog = try await Catalog.open(location, logger: logger)
        Collector.tighten(dataDirectory)
        let storageTargets = StorageTargets(catalog: catalog, secrets: secrets)
        let agents = Agents(catalog: catalog)
        let collector = Collector(
            catalog: catalog, users: Users(catalog: catalog, hasher: PasswordHasher(parameters: hashing)),
            storageTargets: storageTargets, nodePaths: NodePaths(catalog: catalog),
            recordingKeys: RecordingKeys(
                catalog: catalog, directory: dataDirectory.appendingPathComponent("keys"), keyBits: recordingKeyBits),
            agents: agents, segments: Segments(catalog: catalog),
            heartbeats: Heartbeats(catalog: catalog),
            agentStorageCredentials: AgentStorageCredentials(
                catalog: catalog, secrets: secrets, storageTargets: storageTargets),
            integrations: Integrations(catalog: catalog), callEvents: CallEvents(catalog: catalog),
            agentIdentities: AgentIdentities(catalog: catalog), calls: CallCatalog(catalog: catalog),
            voice: VoiceRecordings(catalog: catalog), dataDirectory: dataDirectory,
            auditKey: AuditChain.checkpointKey(secrets), csrfKey: secrets.derivedKey("web session csrf v1"))
        do {
            try await AuditChain.chainUnplaced(catalog)
            try await collector.ensureDefaults()
        } catch {
            await catalog.close()
            throw error
        }
        return collector
    }

    /// The data directory holds the catalog, keys and recordings: 0700, and the SQLite files (which
    /// SQLite creates with the umask's mode, world-readable by default) 0600. Also applied to a data
    /// directory that existed before, with whatever modes it had.
    static func tighten(_ dataDirectory: URL) {
        chmod(dataDirectory.path, 0o700)
        for name in ["catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm", "catalog.sqlite-journal"] {
            let path = dataDirectory.appendingPathComponent(name).path
            if FileManager.default.fileExists(atPath: path) { chmod(path, 0o600) }
        }
    }

    /// What a fresh catalog gets, so the collector works out of the box and the CLI can be used before
    /// the first `serve`: a recording key (whenever none is active), the built-in storage target and
    /// the root node path mapped to it. Only on a
    /// catalog without any storage target: an admin's later removals stay removed. Collectors starting
    /// together on one PostgreSQL may race here; the loser's duplicate insert is harmless and ignored.
    func ensureDefaults() async throws {
        if try await recordingKeys.active().isEmpty {
            try await recordingKeys.add(by: .system)
        }
        let targets =
            try await catalog.sql.raw("SELECT COUNT(*) AS n FROM storage_targets").first()?
            .decode(column: "n", as: Int.self) ?? 0
        guard targets == 0 else { return }
        _ = try? await storageTargets.create(
            StorageTargetInput(name: StorageTargets.builtinName, kind: .builtin), by: .system)
        _ = try? await nodePaths.create(NodePathInput(path: "/", storage: StorageTargets.builtinName), by: .system)
    }

    /// A first admin whose generated password is returned (to be shown once); nil when an admin exists.
    public func bootstrap() async throws -> (username: String, password: String)? {
        guard try await users.count == 0 else { return nil }
        let password = BearerToken.make(prefix: "pw").dropFirst(3).prefix(24)
        try await users.createAdmin(username: "admin", password: String(password), by: .system)
        return ("admin", String(password))
    }

    /// Every agent with its last heartbeat (judged now) and its segments' chain counts: the admin's view.
    public func agentOverview(now: Date = Date()) async throws -> [Agents.Agent] {
        let health = try await heartbeats.all(now: now)
        let chains = try await segments.chainSummary()
        return try await agents.list().map { agent in
            var agent = agent
            agent.health = health[agent.id]
            agent.segments = chains[agent.id] ?? .init()
            return agent
        }
    }

    public func close() async {
        await catalog.close()
    }
}
