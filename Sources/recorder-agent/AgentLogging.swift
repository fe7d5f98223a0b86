import ArgumentParser
import Logging
import Synchronization

enum AgentLogging {
    /// Logs go to stderr so stdout stays for results a script can read.
    static func makeLogger(level: String) throws -> Logger {
        guard let parsed = Logger.Level(rawValue: level) else {
            throw ValidationError(
                "--log-level \(level) is not one of trace, debug, info, notice, warning, error, critical")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = parsed
            return handler
        }
        var logger = Logger(label: "recorder-agent")
        logger.logLevel = parsed
        return logger
    }
}

/// Collects the paths written by the sink (appended from one task, read after the group ends).
final class WrittenFiles: Sendable {
    private let storage = Mutex<[String]>([])

    func append(_ path: String) {
        storage.withLock { $0.append(path) }
    }

    var paths: [String] { storage.withLock { $0 } }
}
