import ArgumentParser
import Logging

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
