import ArgumentParser
import CollectorCore
import Foundation
import RecorderCore

/// `recorder-collector admin ...`: the admin API's operations, run directly on the catalog (on the
/// collector's host, as the user who owns its data directory). Same validation, same audit entries
/// (actor `cli:<unix user>`).
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Administer node paths, storage targets, users; read the audit log.",
        subcommands: [
            NodePathCommand.self, StorageCommand.self, EnrolmentCodeCommand.self, AgentCommand.self,
            SegmentCommand.self, UserCommand.self, AuditCommand.self, IntegrationCommand.self, CallCommand.self,
        ])
}

/// Runs `body` with an open collector and the CLI actor; CollectorError becomes a clean message and exit 1.
func withCollector(_ common: CommonOptions, _ body: (Collector, Actor) async throws -> Void) async throws {
    let collector = try await common.openCollector(try common.configuration())
    let user = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"]
    let actor = Actor(name: "cli:\(user ?? "uid\(getuid())")", source: "cli")
    do {
        try await body(collector, actor)
    } catch let error as CollectorError {
        await collector.close()
        FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
        throw ExitCode.failure
    } catch {
        await collector.close()
        throw error
    }
    await collector.close()
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// One tab-separated table row. Every field may hold outside data (host names, call ids, user names
/// from failed logins, paths): control characters (tabs included, which would shift the columns)
/// and bidi overrides are printed escaped, never passed to the admin's terminal.
func printRow(_ fields: [String]) {
    print(fields.map(OutsideText.printable).joined(separator: "\t"))
}

/// Secrets never come from arguments (visible in `ps` and shell history): stdin or an environment variable.
func readSecret(stdin: Bool, environment name: String, what: String) throws -> String? {
    if stdin {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw ValidationError("expected the \(what) on standard input")
        }
        return line
    }
    return ProcessInfo.processInfo.environment[name]
}

struct NodePathCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node-path", abstract: "Node paths and the storage their agents use.",
        subcommands: [Add.self, Set.self, Rules.self, Remove.self, List.self, Resolve.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Map a node path to a storage target.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "e.g. /emea/paris/sales") var path: String
        @Option(help: "Storage target name (\"builtin\" for the collector's own store).") var storage: String
        @Option(help: "Free text for admins.") var description: String?
        @Option(name: .customLong("quota-mb"), help: "Most the built-in store may hold under this path, in MB.")
        var quotaMB: Int?

        func run() async throws {
            try await withCollector(common) { collector, actor in
                try printJSON(
                    try await collector.nodePaths.create(
                        NodePathInput(path: path, storage: storage, description: description, quotaMB: quotaMB),
                        by: actor))
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a node path's storage, description or quota.")
        @OptionGroup var common: CommonOptions
        @Argument var path: String
        @Option var storage: String?
        @Option var description: String?
        @Option(name: .customLong("quota-mb"), help: "Built-in store quota in MB; 0 removes it.") var quotaMB: Int?

        func run() async throws {
            try await withCollector(common) { collector, actor in
                try printJSON(
                    try await collector.nodePaths.update(
                        path, NodePathInput(storage: storage, description: description, quotaMB: quotaMB), by: actor))
            }
        }
    }

    struct Rules: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set what a node path decides of how its agents record calls; without options, show the rules an agent there gets.",
            discussion: """
                Each option changes one rule on this node path and keeps the others; a rule it does not set is \
                inherited from the next shorter node path. Agents pick changes up within a minute, without a restart.
                """)
        @OptionGroup var common: CommonOptions
        @Argument(help: "A configured node path (to set) or any node path (to show).") var path: String
        @Option(name: .customLong("record-calls"), help: "true or false: record the screen of calls at all.")
        var recordCalls: Bool?
        @Option(name: .customLong("include-queue"), help: "Only legs in this queue (repeat for more).")
        var includeQueues: [String] = []
        @Option(name: .customLong("exclude-queue"), help: "Never legs in this queue (repeat for more).")
        var excludeQueues: [String] = []
        @Option(help: "Frames per second (1–30).") var fps: Int?
        @Option(name: .customLong("bitrate-kbps"), help: "Target bitrate (50–20000 kbit/s).") var bitrateKbps: Int?
        @Option(name: .customLong("post-roll"), help: "Seconds recorded after the last leg ends (0–3600).")
        var postRoll: Int?
        @Option(name: .customLong("auto-resume"), help: "Seconds after which a forgotten PCI pause resumes (10–86400).")
        var autoResume: Int?
        @Option(name: .customLong("record-always"), help: "true or false: record from the agent's start, whatever the calls.")
        var recordAlways: Bool?
        @Option(help: "Inherit this rule again (record_calls, include_queues, exclude_queues, fps, bitrate_kbps, post_roll_seconds, auto_resume_seconds, record_always; repeatable).")
        var inherit: [String] = []
        @Flag(help: "Inherit every rule again.") var clear = false

        func run() async throws {
            try await withCollector(common) { collector, actor in
                let changes =
                    recordCalls != nil || !includeQueues.isEmpty || !excludeQueues.isEmpty || fps != nil
                    || bitrateKbps != nil || postRoll != nil || autoResume != nil || recordAlways != nil
                    || !inherit.isEmpty || clear
                if changes {
                    var rules = clear ? RecordingRulesOverride() : (try await collector.nodePaths.get(path).recordingRules ?? .init())
                    if let recordCalls { rules.recordCalls = recordCalls }
                    if !includeQueues.isEmpty { rules.includeQueues = includeQueues }
                    if !excludeQueues.isEmpty { rules.excludeQueues = excludeQueues }
                    if let fps { rules.framesPerSecond = fps }
                    if let bitrateKbps { rules.bitrateKbps = bitrateKbps }
                    if let postRoll { rules.postRollSeconds = postRoll }
                    if let autoResume { rules.autoResumeSeconds = autoResume }
                    if let recordAlways { rules.recordAlways = recordAlways }
                    for name in inherit {
                        switch name {
                        case "record_calls": rules.recordCalls = nil
                        case "include_queues": rules.includeQueues = nil
                        case "exclude_queues": rules.excludeQueues = nil
                        case "fps": rules.framesPerSecond = nil
                        case "bitrate_kbps": rules.bitrateKbps = nil
                        case "post_roll_seconds": rules.postRollSeconds = nil
                        case "auto_resume_seconds": rules.autoResumeSeconds = nil
                        case "record_always": rules.recordAlways = nil
                        default: throw ValidationError("--inherit: no rule named \(name)")
                        }
                    }
                    // Through the same checks as the API (bounds, queue names).
                    let checked = try StrictJSON.decode(RecordingRulesOverride.self, from: try StrictJSON.encode(rules))
                    _ = try await collector.nodePaths.update(path, NodePathInput(recordingRules: checked), by: actor)
                }
                let effective = try await collector.nodePaths.rules(for: path)
                let rules = effective.rules
                func line(_ key: String, _ value: String) {
                    printRow([key, value, effective.sources[key].map { "set at \($0)" } ?? "default"])
                }
                line("record_calls", "\(rules.recordCalls)")
                line("include_queues", rules.includeQueues.isEmpty ? "(all)" : rules.includeQueues.joined(separator: ","))
                line("exclude_queues", rules.excludeQueues.isEmpty ? "(none)" : rules.excludeQueues.joined(separator: ","))
                line("fps", rules.framesPerSecond.map(String.init) ?? "(the agent's own)")
                line("bitrate_kbps", rules.bitrateKbps.map(String.init) ?? "(the agent's own)")
                line("post_roll_seconds", "\(rules.postRollSeconds)")
                line("auto_resume_seconds", "\(rules.autoResumeSeconds)")
                line("record_always", "\(rules.recordAlways)")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a node path.")
        @OptionGroup var common: CommonOptions
        @Argument var path: String

        func run() async throws {
            try await withCollector(common) { collector, actor in try await collector.nodePaths.delete(path, by: actor)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List node paths.")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await withCollector(common) { collector, _ in
                for record in try await collector.nodePaths.list() {
                    let quota = record.quotaMB.map { "quota \($0) MB" } ?? "no quota"
                    printRow([record.path, record.storage, quota, record.description])
                }
            }
        }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show which node path (longest configured prefix) and storage an agent's path uses.")
        @OptionGroup var common: CommonOptions
        @Argument var path: String

        func run() async throws {
            try await withCollector(common) { collector, _ in
                guard let record = try await collector.nodePaths.resolve(path) else {
                    throw CollectorError(.notFound, "no node path covers \(path)")
                }
                print("\(path) -> \(record.path) -> storage \(record.storage)")
            }
        }
    }
}

struct StorageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage", abstract: "Storage targets (the built-in store or WebDAV/HTTPS servers).",
        subcommands: [Add.self, Remove.self, List.self, Test.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a WebDAV/HTTPS storage target. The password or token comes from standard input "
                + "(--secret-stdin) or RECORDER_COLLECTOR_STORAGE_SECRET, never from an argument.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Target name, e.g. paris-dav.") var name: String
        @Option(help: "https:// base URL.") var url: String
        @Option(help: "none, basic, digest or bearer.") var auth: String = "none"
        @Option var username: String?
        @Flag(help: "Read the password or bearer token from standard input.") var secretStdin = false
        @Option(help: "PEM file of the CA(s) to trust for this server.") var caFile: String?
        @Option(
            help:
                "shared: agents upload with this account unless they have their own; own: only with their own (admin agent storage-credentials set)."
        )
        var agentCredentials: String = "shared"

        func run() async throws {
            guard let policy = StorageTargetRecord.AgentCredentials(rawValue: agentCredentials) else {
                throw ValidationError("--agent-credentials \(agentCredentials): use shared or own")
            }
            guard let authentication = StorageTargetRecord.Authentication(rawValue: auth) else {
                throw ValidationError("--auth \(auth): use none, basic, digest or bearer")
            }
            let secret = try readSecret(
                stdin: secretStdin, environment: "RECORDER_COLLECTOR_STORAGE_SECRET", what: "password or token")
            var caPEM: String?
            if let caFile {
                guard let text = try? String(contentsOfFile: caFile, encoding: .utf8) else {
                    throw ValidationError("--ca-file \(caFile): cannot read it")
                }
                caPEM = text
            }
            try await withCollector(common) { collector, actor in
                let input = StorageTargetInput(
                    name: name, kind: .webdav, url: url, auth: authentication, username: username,
                    password: authentication == .bearer ? nil : secret,
                    bearerToken: authentication == .bearer ? secret : nil, caPEM: caPEM, agentCredentials: policy)
                try printJSON(try await collector.storageTargets.create(input, by: actor))
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a storage target no node path uses.")
        @OptionGroup var common: CommonOptions
        @Argument var name: String

        func run() async throws {
            try await withCollector(common) { collector, actor in
                try await collector.storageTargets.delete(name, by: actor)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List storage targets (secrets never shown).")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await withCollector(common) { collector, _ in
                for target in try await collector.storageTargets.list() {
                    printRow([target.name, target.kind.rawValue, target.url ?? "-", target.auth.rawValue])
                }
            }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Probe a storage target with its own credentials: MKCOL, PUT, PROPFIND, GET, DELETE.",
            discussion: "Prints each step and what it saw; exits 1 when a step failed.")
        @OptionGroup var common: CommonOptions
        @Argument var name: String

        func run() async throws {
            var passed = true
            try await withCollector(common) { collector, actor in
                let report = try await collector.testStorage(named: name, by: actor)
                print("storage target \(report.target) (\(report.location)):")
                for step in report.steps {
                    print("  \(step.ok ? "ok    " : "FAILED") \(step.name)\t\(step.milliseconds) ms\t\(step.detail)")
                }
                print(report.ok ? "passed" : "failed")
                passed = report.ok
            }
            if !passed { throw ExitCode.failure }
        }
    }
}

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Users of the collector and its web app, their roles and node paths.",
        subcommands: [Add.self, Set.self, Password.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Add a user; the password comes from standard input (--password-stdin) or RECORDER_COLLECTOR_PASSWORD.",
            discussion: """
                Roles: admin (everything), supervisor and qa (the calls of agents under their --scope node paths), \
                agent (nothing, or the calls of their --workstation).
                """)
        @OptionGroup var common: CommonOptions
        @Argument var username: String
        @Option(help: "admin, supervisor, qa or agent.") var role = "admin"
        @Option(name: .customLong("scope"), help: "A node path whose agents' calls they see (repeat for more).")
        var scopes: [String] = []
        @Option(help: "For an agent: the workstation (enrolled agent id) whose calls they see.") var workstation: String?
        @Flag var passwordStdin = false

        func run() async throws {
            guard let role = Users.Role(rawValue: role) else {
                throw ValidationError("--role is admin, supervisor, qa or agent, not \(role)")
            }
            guard
                let password = try readSecret(
                    stdin: passwordStdin, environment: "RECORDER_COLLECTOR_PASSWORD", what: "password")
            else { throw ValidationError("give the password on standard input with --password-stdin") }
            try await withCollector(common) { collector, actor in
                try printJSON(
                    try await collector.users.create(
                        username: username, password: password,
                        profile: .init(role: role, scopes: scopes, workstation: workstation), by: actor))
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a user's role, node paths or workstation, or disable them (which ends their sessions).")
        @OptionGroup var common: CommonOptions
        @Argument var username: String
        @Option(help: "admin, supervisor, qa or agent.") var role: String?
        @Option(name: .customLong("scope"), help: "Replaces their node paths (repeat for more).") var scopes: [String] = []
        @Option(help: "For an agent: their workstation (\"\" to unlink).") var workstation: String?
        @Flag(inversion: .prefixedEnableDisable, help: "Whether they may sign in.") var enabled: Bool?

        func run() async throws {
            let parsed = try role.map { name in
                guard let value = Users.Role(rawValue: name) else {
                    throw ValidationError("--role is admin, supervisor, qa or agent, not \(name)")
                }
                return value
            }
            try await withCollector(common) { collector, actor in
                try printJSON(
                    try await collector.users.update(
                        username: username,
                        .init(
                            role: parsed, scopes: scopes.isEmpty ? nil : scopes, workstation: workstation,
                            disabled: enabled.map { !$0 }), by: actor))
            }
        }
    }

    struct Password: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a user's password (standard input or RECORDER_COLLECTOR_PASSWORD); ends their sessions.")
        @OptionGroup var common: CommonOptions
        @Argument var username: String
        @Flag var passwordStdin = false

        func run() async throws {
            guard
                let password = try readSecret(
                    stdin: passwordStdin, environment: "RECORDER_COLLECTOR_PASSWORD", what: "password")
            else { throw ValidationError("give the password on standard input with --password-stdin") }
            try await withCollector(common) { collector, actor in
                try await collector.users.setPassword(username: username, password: password, by: actor)
                print("password of \(username) set; their sessions have ended")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every user: name, role, node paths or workstation.")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await withCollector(common) { collector, _ in
                for user in try await collector.users.list() {
                    printRow([
                        user.username, user.role.rawValue,
                        user.scopes.isEmpty ? (user.workstation ?? "-") : user.scopes.joined(separator: ","),
                        user.disabled ? "disabled" : "enabled",
                    ])
                }
            }
        }
    }
}

struct EnrolmentCodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enrolment-code", abstract: "One-time codes that enrol a workstation at a node path.",
        subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a code (give it to whoever installs the agent).")
        @OptionGroup var common: CommonOptions
        @Argument(help: "The workstation's node path, e.g. /emea/paris/sales.") var nodePath: String
        @Option(help: "Hours the code stays valid (1–720).") var hours = 24

        func run() async throws {
            try await withCollector(common) { collector, actor in
                let code = try await collector.agents.makeCode(nodePath: nodePath, hours: hours, by: actor)
                print("\(code.code)\t\(code.nodePath)\tvalid until \(code.expiresAt)")
            }
        }
    }
}

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent", abstract: "Enrolled workstations.",
        subcommands: [List.self, Revoke.self, AllowReenrolment.self, StorageCredentialsCommand.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List agents with their health (last heartbeat judged) and segment chain counts.")
        @OptionGroup var common: CommonOptions
        @Flag(help: "Print JSON (what GET /api/v1/admin/agents answers).") var json = false

        func run() async throws {
            try await withCollector(common) { collector, _ in
                let agents = try await collector.agentOverview()
                if json { return try printJSON(agents) }
                print(
                    "AGENT\tNODE PATH\tHOST\tSTATUS\tHEALTH\tVERSION\tSTATE\tSPOOL\tCLOCK OFFSET\tSEGMENTS\tLAST SEEN")
                for agent in agents {
                    let status = agent.revokedAt.map { "revoked \($0)" } ?? "active"
                    let health = agent.health
                    let segments = agent.segments ?? Segments.ChainSummary()
                    printRow(
                        [
                            agent.id, agent.nodePath, agent.hostname, status, health?.verdict ?? "no heartbeat",
                            health?.agentVersion ?? "-", health?.state ?? "-",
                            health.map { "\($0.spoolSegments)" } ?? "-",
                            health.map { "\($0.clockOffsetMs) ms" } ?? "-",
                            "\(segments.segments) (\(segments.broken) broken, \(segments.pending) pending)",
                            agent.lastSeenAt ?? "never",
                        ])
                    if let error = health?.lastError {
                        print("\tlast error \(health?.lastErrorAt ?? ""): \(OutsideText.printable(error))")
                    }
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an agent's token at once.")
        @OptionGroup var common: CommonOptions
        @Argument var id: String

        func run() async throws {
            try await withCollector(common) { collector, actor in
                try await collector.agents.revoke(id, by: actor)
                print("revoked agent \(id)")
            }
        }
    }

    struct AllowReenrolment: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "allow-reenrolment",
            abstract: "Let a revoked agent id enrol once more (a new code, a new key; its old keys stay on record).")
        @OptionGroup var common: CommonOptions
        @Argument var id: String

        func run() async throws {
            try await withCollector(common) { collector, actor in
                try await collector.agents.allowReenrolment(id, by: actor)
                print("agent \(id) may enrol again with a new enrolment code")
            }
        }
    }
}
