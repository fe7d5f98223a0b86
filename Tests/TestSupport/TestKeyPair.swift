import Foundation

/// A throwaway RSA-2048 key and self-signed certificate made by openssl in a fresh directory.
public struct TestKeyPair: Sendable {
    public let directory: URL
    public var certificate: URL { directory.appendingPathComponent("cert.pem") }
    public var privateKey: URL { directory.appendingPathComponent("key.pem") }
    public var certificatePEM: String { get throws { try String(contentsOf: certificate, encoding: .utf8) } }
    public var privateKeyPEM: String { get throws { try String(contentsOf: privateKey, encoding: .utf8) } }

    /// `serial`: e.g. "0x80000000000000000001" to force a serial whose DER INTEGER needs a leading zero.
    public init(name: String, serial: String? = nil) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let result = try ProcessRunner.run(
            "openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=\(name)/O=Recorder Tests",
                "-keyout", directory.appendingPathComponent("key.pem").path, "-out",
                directory.appendingPathComponent("cert.pem").path,
            ] + (serial.map { ["-set_serial", $0] } ?? []))
        guard result.status == 0 else { throw TestFailure("openssl req failed: \(result.stderr)") }
    }
}
