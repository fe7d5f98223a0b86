import ArgumentParser
import CollectorCore
import Foundation

/// `recorder-collector keys ...`: the recording keys segments are sealed for.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Recording keys: list, rotate, retire.",
        subcommands: [List.self, Certificate.self, Rotate.self, Retire.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List recording keys (active ones are sealed for).")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await withCollector(common) { collector, _ in
                for key in try await collector.recordingKeys.list() {
                    print("\(key.id)\t\(key.active ? "active" : "retired \(key.retiredAt!)")\tcreated \(key.createdAt)")
                }
            }
        }
    }

    struct Certificate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a recording key's certificate (PEM), e.g. for an agent configured by hand.")
        @OptionGroup var common: CommonOptions
        @Argument var id: String

        func run() async throws {
            try await withCollector(common) { collector, _ in
                guard let key = try await collector.recordingKeys.list().first(where: { $0.id == id }) else {
                    throw CollectorError(.notFound, "no recording key \(id) (see `recorder-collector keys list`)")
                }
                print(key.certificatePEM, terminator: "")
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a recording key; agents seal for it (and the others still active) from their next config.")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await withCollector(common) { collector, actor in
                let key = try await collector.recordingKeys.add(by: actor)
                print("added recording key \(key.id); retire the old one with `recorder-collector keys retire ID`")
            }
        }
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop sealing new segments for a key; it stays to open older segments.")
        @OptionGroup var common: CommonOptions
        @Argument var id: String

        func run() async throws {
            try await withCollector(common) { collector, actor in
                try await collector.recordingKeys.retire(id, by: actor)
                print("retired recording key \(id)")
            }
        }
    }
}

/// `recorder-collector decrypt FILE`: opens a sealed segment with the collector's keys (audited).
struct DecryptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decrypt", abstract: "Decrypt a sealed segment (.webm.p7m) with the collector's recording keys.")
    @OptionGroup var common: CommonOptions
    @Argument(help: "The sealed file.") var file: String
    @Option(help: "Where to write the WebM (default: FILE without .p7m).") var out: String?

    func run() async throws {
        guard let sealed = FileManager.default.contents(atPath: file) else {
            throw ValidationError("cannot read \(file)")
        }
        let destination = out ?? (file.hasSuffix(".p7m") ? String(file.dropLast(4)) : file + ".webm")
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw ValidationError("\(destination) exists; choose another --out")
        }
        try await withCollector(common) { collector, actor in
            let plain = try await collector.recordingKeys.open([UInt8](sealed))
            guard
                FileManager.default.createFile(
                    atPath: destination, contents: Data(plain), attributes: [.posixPermissions: 0o600])
            else { throw CollectorError(.invalid, "cannot write \(destination)") }
            try await AuditLog.record(
                "segment.decrypt", target: "file:\((file as NSString).lastPathComponent)", detail: "to \(destination)",
                by: actor, in: collector.catalog)
            print("wrote \(destination) (\(plain.count) bytes)")
        }
    }
}
