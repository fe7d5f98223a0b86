import ArgumentParser
import CollectorCore
import Foundation
import RecorderCore

/// `voice`: voice recordings in the catalog, and bulk back-fill from a directory.
struct VoiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "voice", abstract: "Voice recordings: import a directory, list what is catalogued.",
        subcommands: [Import.self, List.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal, store and catalogue every recording under DIR that a known convention describes.",
            discussion: """
                Genesys GIR archives (recording.json beside the media), Amazon Connect recordings \
                ({contactId}_{yyyyMMddTHH:mm}_UTC.wav, stereo: customer left, agent right) and baresip sndfile \
                dumps (dump-{local time}-enc.wav / -dec.wav, matched to the workstation's call by time). Running it \
                again adds nothing. Files that cannot be imported are listed with the reason and left in place; the \
                command then exits with status 1.
                """)
        @OptionGroup var common: CommonOptions
        @Argument(help: "The directory to import (searched recursively).") var directory: String
        @Option(help: "The integration whose calls GIR and Amazon Connect files belong to.") var integration: String?
        @Option(help: "The enrolled agent (workstation) whose baresip softphone wrote the dumps.") var workstation: String?
        @Option(help: "The time zone of baresip's file names (IANA name; default: this machine's).") var timezone: String?

        func run() async throws {
            var zone = TimeZone.current
            if let timezone {
                guard let named = TimeZone(identifier: timezone) else {
                    throw ValidationError("--timezone \(timezone) is not a time zone name (e.g. Europe/Paris, UTC)")
                }
                zone = named
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("\(directory) is not a directory")
            }
            var failed = false
            try await withCollector(common) { collector, _ in
                let report = try await collector.importVoice(
                    from: URL(fileURLWithPath: directory), integration: integration, workstation: workstation,
                    timeZone: zone)
                // Names and messages come from outside (file names, sidecars): printed without control characters.
                let clean = OutsideText.printable
                for record in report.imported {
                    print("imported\t\(clean(record.interactionId))\t\(clean(record.legId))\t\(record.audio.codec.rawValue)\t\(record.audio.durationMs) ms\t\(clean(record.objectPath))")
                }
                for record in report.repeated {
                    print("already catalogued\t\(clean(record.interactionId))\t\(clean(record.legId))\t\(record.id)")
                }
                for problem in report.problems {
                    FileHandle.standardError.write(Data("not imported: \(clean(problem.file)): \(clean(problem.message))\n".utf8))
                }
                print("\(report.imported.count) imported, \(report.repeated.count) already catalogued, \(report.problems.count) not imported")
                failed = !report.problems.isEmpty
            }
            if failed { throw ExitCode(1) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Catalogued voice recordings, newest first, or a call's in start order.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Only this interaction's.") var call: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withCollector(common) { collector, _ in
                let records = try await collector.voice.list(interactionId: call)
                if json { return try printJSON(records) }
                print("STARTED\tINTEGRATION\tINTERACTION\tLEG\tCODEC\tCHANNELS\tDURATION_MS\tDELIVERED\tOBJECT")
                for record in records {
                    printRow([
                        record.startedAt, record.integration, record.interactionId, record.legId, record.audio.codec.rawValue,
                        record.channelLayout.map(\.rawValue).joined(separator: ","), "\(record.audio.durationMs)",
                        record.deliveredBy, "\(record.storageTarget):\(record.objectPath)",
                    ])
                }
            }
        }
    }
}
