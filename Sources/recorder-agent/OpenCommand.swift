import ArgumentParser
import Foundation
import RecorderCore

/// `recorder-agent open`: decrypts sealed segments with a recipient's certificate and private key
/// (what `openssl cms -decrypt` does, for admins without openssl at hand).
struct OpenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open", abstract: "Decrypt sealed .webm.p7m segments into plain .webm files.")

    @Option(help: "The recipient's PEM certificate.")
    var certificate: String

    @Option(help: "The recipient's PEM private key (keep it 0600).")
    var key: String

    @Option(help: "Directory for the decrypted .webm files.")
    var out: String

    @Argument(help: "Sealed .webm.p7m files.")
    var files: [String]

    func run() throws {
        let opener = try SegmentOpener(
            certificatePEM: try read(certificate, "certificate"), privateKeyPEM: try read(key, "private key"))
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        var failures = 0
        for file in files {
            do {
                guard let sealed = FileManager.default.contents(atPath: file) else {
                    throw ValidationError("cannot read \(file)")
                }
                let plain = try opener.open([UInt8](sealed))
                var name = URL(fileURLWithPath: file).lastPathComponent
                if name.hasSuffix(".p7m") { name.removeLast(4) }
                let destination = URL(fileURLWithPath: out).appendingPathComponent(name)
                try Data(plain).write(to: destination, options: .atomic)
                print("\(file) -> \(destination.path)")
            } catch {
                failures += 1
                print("\(file): \(error)")
            }
        }
        if failures > 0 { throw ExitCode.failure }
    }

    private func read(_ path: String, _ what: String) throws -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ValidationError("cannot read the \(what) \(path)")
        }
        return text
    }
}
