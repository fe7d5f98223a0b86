import Crypto
import Foundation
import RecorderCore
import StorageClient
import WebDAV

/// The "test" action on a storage target: does, with the target's own credentials, what agents and
/// the collector will do — MKCOL a probe collection, PUT a file, PROPFIND it, GET it back and compare,
/// DELETE both — and says which step failed and why, so an admin fixes a target before agents fail.
public struct StorageProbeReport: Codable, Sendable, Equatable {
    public var target: String
    /// Where the probe ran (the target's URL, or the built-in store's directory).
    public var location: String
    public var ok: Bool
    public var steps: [Step]

    public struct Step: Codable, Sendable, Equatable {
        /// MKCOL, PUT, PROPFIND, GET, DELETE.
        public var name: String
        public var ok: Bool
        public var detail: String
        public var milliseconds: Int
    }
}

extension Collector {
    /// Probes target `name` and audits that it was tested (and the outcome).
    public func testStorage(named name: String, by actor: Actor) async throws -> StorageProbeReport {
        let record = try await storageTargets.get(name)
        let collection = "recorder-probe-\(BearerToken.make(prefix: "p").suffix(12))"
        let content = [UInt8]((0..<4096).map { _ in UInt8.random(in: 0...255) })
        let report: StorageProbeReport
        switch record.kind {
        case .builtin:
            let store = try builtinStore()
            report = await Collector.probe(
                target: name, location: store.root.path, steps: BuiltinProbeSteps(store: store), collection: collection,
                content: content)
        case .webdav:
            guard let storage = try await storage(named: name) as? WebDAVTargetStorage else {
                throw CollectorError(.invalid, "storage target \(name) is not a WebDAV target")
            }
            let client = storage.client
            report = await Collector.probe(
                target: name, location: record.url ?? "", steps: WebDAVProbeSteps(client: client),
                collection: collection, content: content)
        }
        let outcome = report.ok ? "passed" : "failed at \(report.steps.first { !$0.ok }?.name ?? "?")"
        try await catalog.transaction { database in
            try await AuditLog.record(
                "storage.test", target: "storage:\(name)", detail: outcome, by: actor, in: database)
        }
        return report
    }

    static func probe(
        target: String, location: String, steps: some ProbeSteps, collection: String, content: [UInt8]
    ) async -> StorageProbeReport {
        var report = StorageProbeReport(target: target, location: location, ok: true, steps: [])
        let file = [collection, "probe.bin"]
        func run(_ name: String, _ work: @escaping @Sendable () throws -> String) async -> Bool {
            let started = ContinuousClock.now
            let outcome: (Bool, String)
            do {
                outcome = (true, try await Collector.onThreadPool(work))
            } catch {
                outcome = (false, "\(error)")
            }
            let elapsed = ContinuousClock.now - started
            report.steps.append(
                .init(
                    name: name, ok: outcome.0, detail: outcome.1,
                    milliseconds: Int(elapsed.milliseconds)))
            if !outcome.0 { report.ok = false }
            return outcome.0
        }
        guard await run("MKCOL", { try steps.makeCollection(collection) }) else { return report }
        if await run("PUT", { try steps.put(content, to: file) }),
            await run("PROPFIND", { try steps.listContains(collection, name: file[1], size: content.count) }),
            await run("GET", { try steps.getMatches(file, content) })
        {
            _ = await run("DELETE", { try steps.delete(file) + "; " + steps.delete([collection]) })
        } else {
            // Leave nothing behind, whatever failed.
            _ = try? await Collector.onThreadPool {
                _ = try? steps.delete(file)
                return try steps.delete([collection])
            }
        }
        return report
    }
}

/// The probe's operations for one kind of storage; each returns what it saw, or throws why it failed.
protocol ProbeSteps: Sendable {
    func makeCollection(_ name: String) throws -> String
    func put(_ bytes: [UInt8], to path: [String]) throws -> String
    func listContains(_ collection: String, name: String, size: Int) throws -> String
    func getMatches(_ path: [String], _ bytes: [UInt8]) throws -> String
    func delete(_ path: [String]) throws -> String
}

struct ProbeFailure: Error, CustomStringConvertible {
    let description: String
}

struct WebDAVProbeSteps: ProbeSteps {
    let client: WebDAVClient

    func makeCollection(_ name: String) throws -> String {
        try client.makeCollections([name])
        return "created \(client.url([name], collection: true))"
    }

    func put(_ bytes: [UInt8], to path: [String]) throws -> String {
        try client.put(bytes, to: path)
        return "stored \(bytes.count) bytes"
    }

    func listContains(_ collection: String, name: String, size: Int) throws -> String {
        let (status, body) = try client.propfind([collection], depth: 1)
        guard status == 207 else {
            throw ProbeFailure(
                description: "PROPFIND \(client.url([collection], collection: true)): HTTP \(status), expected 207")
        }
        let entries = try MultistatusListing.entries(Data(body), requestURL: client.url([collection], collection: true))
        guard entries.contains(where: { $0.name == name && !$0.isCollection }) else {
            throw ProbeFailure(
                description: "the listing of \(collection)/ does not show \(name) (found: \(entries.map(\.name)))")
        }
        return "listed \(name)"
    }

    func getMatches(_ path: [String], _ bytes: [UInt8]) throws -> String {
        var hash = SHA256()
        guard let size = try client.get(path, into: { hash.update(bufferPointer: $0) }) else {
            throw ProbeFailure(description: "GET \(client.url(path)): 404 right after the PUT")
        }
        guard size == bytes.count, hash.finalize() == SHA256.hash(data: bytes) else {
            throw ProbeFailure(
                description: "GET \(client.url(path)) returned \(size) bytes that differ from the \(bytes.count) stored"
            )
        }
        return "read back \(size) identical bytes"
    }

    func delete(_ path: [String]) throws -> String {
        try client.delete(path)
        return "deleted \(path.last ?? "")"
    }
}

struct BuiltinProbeSteps: ProbeSteps {
    let store: BuiltinStore

    func makeCollection(_ name: String) throws -> String {
        try store.makeCollection(StorePath(components: [name]))
        return "created \(name)/"
    }

    func put(_ bytes: [UInt8], to path: [String]) throws -> String {
        guard store.availableBytes >= Int64(bytes.count) else {
            throw ProbeFailure(description: "the store's file system is full (507 for agents)")
        }
        let destination = store.url(StorePath(components: path))
        let fd = open(destination.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw ProbeFailure(description: "cannot create \(destination.path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw ProbeFailure(description: "cannot write \(destination.path): \(String(cString: strerror(errno)))")
        }
        return "stored \(bytes.count) bytes; \(store.availableBytes >> 20) MiB free above the reserve"
    }

    func listContains(_ collection: String, name: String, size: Int) throws -> String {
        let names = try store.children(StorePath(components: [collection]))
        guard names.contains(name) else { throw ProbeFailure(description: "\(collection)/ does not list \(name)") }
        return "listed \(name)"
    }

    func getMatches(_ path: [String], _ bytes: [UInt8]) throws -> String {
        guard let data = FileManager.default.contents(atPath: store.url(StorePath(components: path)).path),
            [UInt8](data) == bytes
        else { throw ProbeFailure(description: "\(path.joined(separator: "/")) does not read back as written") }
        return "read back \(data.count) identical bytes"
    }

    func delete(_ path: [String]) throws -> String {
        try store.remove(StorePath(components: path))
        return "deleted \(path.last ?? "")"
    }
}
