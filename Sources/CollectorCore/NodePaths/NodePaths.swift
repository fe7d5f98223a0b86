import Foundation
import RecorderCore
import SQLKit

/// A node path (`/emea/paris/sales`) mapped to the storage target its agents upload to.
public struct NodePathRecord: Codable, Sendable, Equatable {
    public var path: String
    public var storage: String
    public var description: String
    /// Most the built-in store may hold under this node path (its whole subtree), in MB; nil: no quota.
    public var quotaMB: Int?
    /// What this node path sets of the recording rules; the rest is inherited (`NodePaths.rules`).
    public var recordingRules: RecordingRulesOverride?
    public var createdAt: String
    public var updatedAt: String

    enum CodingKeys: String, CodingKey {
        case path, storage, description
        case quotaMB = "quota_mb"
        case recordingRules = "recording_rules"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

public struct NodePathInput: Codable, Sendable, Equatable {
    public var path: String?
    public var storage: String?
    public var description: String?
    /// Built-in store quota in MB; 0 removes it, absent leaves it as it is.
    public var quotaMB: Int?
    /// Replaces what this node path sets of the recording rules (`{}` sets nothing: all inherited);
    /// absent leaves them as they are.
    public var recordingRules: RecordingRulesOverride?

    public init(
        path: String? = nil, storage: String? = nil, description: String? = nil, quotaMB: Int? = nil,
        recordingRules: RecordingRulesOverride? = nil
    ) {
        self.path = path
        self.storage = storage
        self.description = description
        self.quotaMB = quotaMB
        self.recordingRules = recordingRules
    }

    enum CodingKeys: String, CodingKey {
        case path, storage, description
        case quotaMB = "quota_mb"
        case recordingRules = "recording_rules"
    }
}

/// Node paths and the longest-prefix rule: an agent at `/emea/paris/sales` uses the target of
/// `/emea/paris/sales` if it exists, else `/emea/paris`, else `/emea`, else `/`.
public struct NodePaths: Sendable {
    let catalog: Catalog

    public init(catalog: Catalog) {
        self.catalog = catalog
    }

    public func list() async throws -> [NodePathRecord] {
        try await catalog.sql.raw("SELECT * FROM node_paths ORDER BY path").all().map(NodePaths.record)
    }

    public func get(_ path: String) async throws -> NodePathRecord {
        try NodePaths.validate(path)
        guard let row = try await catalog.sql.raw("SELECT * FROM node_paths WHERE path = \(bind: path)").first() else {
            throw CollectorError(.notFound, "no node path \"\(path)\" (list them with GET /api/v1/admin/node-paths)")
        }
        return try NodePaths.record(row)
    }

    public func create(_ input: NodePathInput, by actor: Actor) async throws -> NodePathRecord {
        guard let path = input.path else { throw CollectorError(.invalid, "path is required, e.g. /emea/paris/sales") }
        try NodePaths.validate(path)
        guard let storage = input.storage else {
            throw CollectorError(.invalid, "storage is required: the name of a storage target (or \"builtin\")")
        }
        let now = Timestamp.now()
        let quota = try NodePaths.quota(input.quotaMB, storage: storage)
        let rules = input.recordingRules.flatMap { $0.isEmpty ? nil : $0 }
        let record = NodePathRecord(
            path: path, storage: storage, description: input.description ?? "", quotaMB: quota,
            recordingRules: rules, createdAt: now, updatedAt: now)
        try await catalog.transaction { database in
            try await NodePaths.requireStorage(storage, in: database)
            guard try await database.raw("SELECT path FROM node_paths WHERE path = \(bind: path)").first() == nil else {
                throw CollectorError(.conflict, "node path \(path) exists already; change it with PUT")
            }
            try await database.raw(
                """
                INSERT INTO node_paths (path, storage, description, quota_mb, recording_rules, created_at, updated_at)
                VALUES (\(bind: path), \(bind: storage), \(bind: record.description), \(bind: quota),
                    \(bind: try NodePaths.rulesText(rules)), \(bind: now), \(bind: now))
                """
            ).run()
            try await AuditLog.record(
                "node_path.create", target: "node_path:\(path)",
                detail: "storage \(storage)\(try NodePaths.rulesDetail(rules))", by: actor, in: database)
        }
        return record
    }

    public func update(_ path: String, _ input: NodePathInput, by actor: Actor) async throws -> NodePathRecord {
        guard input.path == nil || input.path == path else {
            throw CollectorError(.invalid, "path cannot be changed (create the new path, then delete the old one)")
        }
        var record = try await get(path)
        record.storage = input.storage ?? record.storage
        record.description = input.description ?? record.description
        if let quota = input.quotaMB { record.quotaMB = quota == 0 ? nil : quota }
        if let rules = input.recordingRules { record.recordingRules = rules.isEmpty ? nil : rules }
        record.quotaMB = try NodePaths.quota(record.quotaMB, storage: record.storage)
        record.updatedAt = Timestamp.now()
        try await catalog.transaction { [record] database in
            try await NodePaths.requireStorage(record.storage, in: database)
            try await database.raw(
                """
                UPDATE node_paths SET storage = \(bind: record.storage), description = \(bind: record.description),
                    quota_mb = \(bind: record.quotaMB), recording_rules = \(bind: try NodePaths.rulesText(record.recordingRules)),
                    updated_at = \(bind: record.updatedAt) WHERE path = \(bind: path)
                """
            ).run()
            try await AuditLog.record(
                "node_path.update", target: "node_path:\(path)",
                detail:
                    "storage \(record.storage), quota \(record.quotaMB.map { "\($0) MB" } ?? "none")\(try NodePaths.rulesDetail(record.recordingRules))",
                by: actor, in: database)
        }
        return record
    }

    public func delete(_ path: String, by actor: Actor) async throws {
        _ = try await get(path)
        try await catalog.transaction { database in
            try await database.raw("DELETE FROM node_paths WHERE path = \(bind: path)").run()
            try await AuditLog.record("node_path.delete", target: "node_path:\(path)", by: actor, in: database)
        }
    }

    /// The configured node path that governs `path`: itself or its longest configured ancestor.
    public func resolve(_ path: String) async throws -> NodePathRecord? {
        try NodePaths.validate(path)
        let candidates = NodePaths.ancestors(of: path)
        let rows = try await catalog.sql.raw(
            "SELECT * FROM node_paths WHERE path IN (\(binds: candidates))"
        ).all().map(NodePaths.record)
        return rows.max { $0.path.count < $1.path.count }
    }

    /// The recording rules for an agent at `path`: each field from the longest configured prefix that
    /// sets it, else the default; `sources` says which node path each set field came from.
    public struct EffectiveRules: Codable, Sendable, Equatable {
        public var path: String
        public var rules: RecordingRules
        public var sources: [String: String]
    }

    public func rules(for path: String) async throws -> EffectiveRules {
        try NodePaths.validate(path)
        let configured = try await catalog.sql.raw(
            "SELECT * FROM node_paths WHERE path IN (\(binds: NodePaths.ancestors(of: path)))"
        ).all().map(NodePaths.record).sorted { $0.path.count < $1.path.count }
        var rules = RecordingRules()
        var sources: [String: String] = [:]
        for record in configured {
            guard let override = record.recordingRules else { continue }
            rules = override.applied(to: rules)
            for key in override.setKeys { sources[key] = record.path }
        }
        return EffectiveRules(path: path, rules: rules, sources: sources)
    }

    static func rulesText(_ rules: RecordingRulesOverride?) throws -> String? {
        try rules.map { String(decoding: try StrictJSON.encode($0), as: UTF8.self) }
    }

    /// For the audit entry: what the node path sets now.
    static func rulesDetail(_ rules: RecordingRulesOverride?) throws -> String {
        guard let text = try rulesText(rules) else { return "" }
        return ", recording rules \(text)"
    }

    /// `/emea/paris/sales` → [`/emea/paris/sales`, `/emea/paris`, `/emea`, `/`].
    static func ancestors(of path: String) -> [String] {
        var result = ["/"]
        var current = ""
        for component in path.split(separator: "/") {
            current += "/" + component
            result.append(current)
        }
        return result.reversed()
    }

    static func validate(_ path: String) throws {
        do {
            try NodePath.validate(path)
        } catch {
            throw CollectorError(.invalid, "\(error)")
        }
    }

    /// Quotas are the built-in store's: an external server enforces its own.
    static func quota(_ megabytes: Int?, storage: String) throws -> Int? {
        guard let megabytes, megabytes != 0 else { return nil }
        guard megabytes > 0 else {
            throw CollectorError(.invalid, "quota_mb must be a positive number of MB (0 removes it)")
        }
        guard storage == StorageTargets.builtinName else {
            throw CollectorError(
                .invalid,
                "quota_mb applies to the built-in store; storage \(storage) is external and its server enforces its own quota"
            )
        }
        return megabytes
    }

    /// Node paths with a quota, for the store's checks.
    package func quotas() async throws -> [(path: String, bytes: Int64)] {
        try await catalog.sql.raw("SELECT path, quota_mb FROM node_paths WHERE quota_mb IS NOT NULL").all().map {
            (
                try $0.decode(column: "path", as: String.self),
                Int64(try $0.decode(column: "quota_mb", as: Int.self)) << 20
            )
        }
    }

    static func requireStorage(_ name: String, in database: any SQLDatabase) async throws {
        guard try await database.raw("SELECT name FROM storage_targets WHERE name = \(bind: name)").first() != nil
        else {
            throw CollectorError(
                .invalid, "storage target \"\(name)\" does not exist; create it first (or use \"builtin\")")
        }
    }

    static func record(_ row: any SQLRow) throws -> NodePathRecord {
        NodePathRecord(
            path: try row.decode(column: "path", as: String.self),
            storage: try row.decode(column: "storage", as: String.self),
            description: try row.decode(column: "description", as: String.self),
            quotaMB: try row.decode(column: "quota_mb", as: Int?.self),
            recordingRules: try row.decode(column: "recording_rules", as: String?.self).map {
                try JSONDecoder().decode(RecordingRulesOverride.self, from: Data($0.utf8))
            },
            createdAt: try row.decode(column: "created_at", as: String.self),
            updatedAt: try row.decode(column: "updated_at", as: String.self))
    }
}
