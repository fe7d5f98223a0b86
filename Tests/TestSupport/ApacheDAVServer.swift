import Foundation
import Glibc

/// A real Apache httpd with mod_dav over HTTPS, on 127.0.0.1 and a free port, with a test CA made by
/// openssl; Digest authentication or a Bearer token, and optionally a required client certificate
/// (mTLS). Stopped (SIGKILL) when released.
public final class ApacheDAVServer: @unchecked Sendable {
    public enum Authentication: Sendable {
        case digest
        /// Apache checks the `Authorization: Bearer …` header with `Require expr` (403 otherwise).
        case bearer(token: String)
    }

    public let directory: URL
    public private(set) var port: Int
    public let user = "agent"
    public let password = "s3cret-pässword"
    public let realm = "recorder"
    private var process: Process?

    public var baseURL: String { "https://127.0.0.1:\(port)/dav" }
    public var caFile: String { directory.appendingPathComponent("ca.pem").path }
    public var documentRoot: URL { directory.appendingPathComponent("root") }
    /// A client certificate and key signed by the test CA, for mTLS.
    public var clientCertificate: String { directory.appendingPathComponent("client.pem").path }
    public var clientKey: String { directory.appendingPathComponent("client.key").path }
    private let authentication: Authentication
    private let requireClientCertificate: Bool
    private let agentAccounts: [String: String]

    /// `agentAccounts` (Digest only): one more account per agent id (name → password), each allowed
    /// only into `…/YYYY/MM/DD/{its name}/` — the per-agent credentials the admin guide describes.
    /// The shared account (`user`) keeps access to everything, as the collector's own.
    public init(
        authentication: Authentication = .digest, requireClientCertificate: Bool = false,
        agentAccounts: [String: String] = [:]
    ) throws {
        self.authentication = authentication
        self.requireClientCertificate = requireClientCertificate
        self.agentAccounts = agentAccounts
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apache-\(UUID().uuidString)")
        self.directory = directory
        let run = directory.appendingPathComponent("run")
        let root = directory.appendingPathComponent("root")
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("dav"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        try ApacheDAVServer.makeCertificates(in: directory)
        let realm = "recorder"
        var passwordFile = ""
        for (user, password) in [("agent", "s3cret-pässword")] + agentAccounts.sorted(by: { $0.key < $1.key }) {
            let digest = try ProcessRunner.run(
                "/bin/sh", ["-c", "printf '%s' \"$0\" | md5sum | cut -d' ' -f1", "\(user):\(realm):\(password)"])
            passwordFile += "\(user):\(realm):\(digest.stdout.trimmingCharacters(in: .whitespacesAndNewlines))\n"
        }
        try passwordFile.write(to: directory.appendingPathComponent("digest.pw"), atomically: true, encoding: .utf8)
        // Apache started as root serves as `nobody`, which must own what it writes.
        if getuid() == 0 {
            _ = try ProcessRunner.run("chown", ["-R", "nobody:nogroup", root.path, run.path])
        }
        port = 0
        var lastError = ""
        for _ in 0..<5 {
            port = try ApacheDAVServer.freePort()
            do {
                try start()
                return
            } catch {
                lastError = "\(error)"
            }
        }
        throw TestFailure("Apache did not start: \(lastError)")
    }

    /// Starts (again, after `stop()`) on the same port with the same files.
    public func start() throws {
        let configuration = directory.appendingPathComponent("httpd.conf")
        try ApacheDAVServer.configuration(
            directory: directory, realm: realm, port: port, authentication: authentication,
            requireClientCertificate: requireClientCertificate, perAgentDirectories: !agentAccounts.isEmpty
        ).write(to: configuration, atomically: true, encoding: .utf8)
        let (process, output) = try ProcessRunner.launch(
            "/usr/sbin/apache2", ["-f", configuration.path, "-DFOREGROUND"], captureStandardError: true)
        guard ApacheDAVServer.waitUntilListening(port: port, process: process) else {
            ApacheDAVServer.terminate(process, configuration: configuration)
            throw TestFailure((try? String(contentsOf: output, encoding: .utf8)) ?? "")
        }
        self.process = process
    }

    /// Stops the server, as a crash or an outage would (the files stay).
    public func stop() {
        if let process {
            ApacheDAVServer.terminate(process, configuration: directory.appendingPathComponent("httpd.conf"))
        }
        process = nil
    }

    /// Kills the parent (and reaps it here: Foundation never noticed its exit, seen as a zombie and a
    /// hang), then every worker started with this configuration: they outlive the parent and would keep
    /// the socket open.
    static func terminate(_ process: Process, configuration: URL) {
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(process.processIdentifier, &status, 0)
        }
        _ = try? ProcessRunner.run("pkill", ["-9", "-f", configuration.path])
        for _ in 0..<100 {
            guard (try? ProcessRunner.run("pgrep", ["-f", configuration.path]))?.status == 0 else { return }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    deinit { stop() }

    private static func configuration(
        directory: URL, realm: String, port: Int, authentication: Authentication, requireClientCertificate: Bool,
        perAgentDirectories: Bool
    ) -> String {
        let modules = "/usr/lib/apache2/modules"
        let d = directory.path
        return """
            ServerRoot "\(d)"
            ServerName 127.0.0.1
            Listen 127.0.0.1:\(port)
            DefaultRuntimeDir "\(d)/run"
            PidFile "\(d)/run/httpd.pid"
            ErrorLog "\(d)/error.log"
            LogLevel warn
            LoadModule mpm_event_module \(modules)/mod_mpm_event.so
            LoadModule authz_core_module \(modules)/mod_authz_core.so
            LoadModule authn_core_module \(modules)/mod_authn_core.so
            LoadModule authn_file_module \(modules)/mod_authn_file.so
            LoadModule auth_digest_module \(modules)/mod_auth_digest.so
            LoadModule authz_user_module \(modules)/mod_authz_user.so
            LoadModule dav_module \(modules)/mod_dav.so
            LoadModule dav_fs_module \(modules)/mod_dav_fs.so
            LoadModule ssl_module \(modules)/mod_ssl.so
            \(getuid() == 0 ? "User nobody\nGroup nogroup" : "")
            DavLockDB "\(d)/run/davlock"
            DocumentRoot "\(d)/root"
            SSLEngine on
            SSLCertificateFile "\(d)/server.pem"
            SSLCertificateKeyFile "\(d)/server.key"
            \(requireClientCertificate ? "SSLCACertificateFile \"\(d)/ca.pem\"\nSSLVerifyClient require\nSSLVerifyDepth 1" : "")
            <Directory "\(d)/root/dav">
              Dav On
              \(access(authentication, realm: realm, directory: d))
            </Directory>
            \(perAgentDirectories ? perAgentRule : "")
            """
    }

    /// An agent's account enters only its own directory; the shared account enters all of them.
    static let perAgentRule = """
        <LocationMatch "^/dav/(.+/)?[0-9]{4}/[0-9]{2}/[0-9]{2}/(?<agent>[^/]+)/">
          Require expr "%{REMOTE_USER} == %{env:MATCH_AGENT} || %{REMOTE_USER} == 'agent'"
        </LocationMatch>
        """

    private static func access(_ authentication: Authentication, realm: String, directory d: String) -> String {
        switch authentication {
        case .digest:
            return """
                AuthType Digest
                  AuthName "\(realm)"
                  AuthUserFile "\(d)/digest.pw"
                  Require valid-user
                """
        case .bearer(let token):
            return "Require expr \"%{HTTP:Authorization} == 'Bearer \(token)'\""
        }
    }

    /// A CA, a server certificate for 127.0.0.1 and a client certificate, both signed by the CA.
    static func makeCertificates(in directory: URL) throws {
        let d = directory.path
        let script = """
            set -e
            cd "\(d)"
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Recorder Test CA" -keyout ca.key -out ca.pem
            openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr
            printf 'subjectAltName=IP:127.0.0.1\\n' > san.cnf
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile san.cnf -out server.pem
            openssl req -newkey rsa:2048 -nodes -subj "/CN=ws-0042" -keyout client.key -out client.csr
            openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out client.pem
            chmod 644 server.key
            """
        let result = try ProcessRunner.run("/bin/sh", ["-c", script])
        guard result.status == 0 else { throw TestFailure("making test certificates failed: \(result.stderr)") }
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw TestFailure("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func waitUntilListening(port: Int, process: Process) -> Bool {
        for _ in 0..<100 {
            guard process.isRunning else { return false }
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            close(fd)
            if connected { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }
}
