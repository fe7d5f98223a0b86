import ArgumentParser

/// Benchmarks that print figures side by side with their baseline; they assert nothing (the tests
/// check correctness).
@main
struct RecorderBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recorder-bench",
        abstract: "Per-segment costs after encoding (sealing, spooling, uploading) and the collector's load capacity.",
        subcommands: [
            SealBenchmark.self, UploadBenchmark.self, CollectorLoadBenchmark.self, HostileLoadBenchmark.self,
            CallEventBenchmark.self, IdleFleetBenchmark.self, SearchBenchmark.self, PlayerBenchmark.self,
        ],
        defaultSubcommand: SealBenchmark.self)
}
