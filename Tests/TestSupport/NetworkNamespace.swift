import Foundation

/// A network namespace for peers that insist on a non-loopback address (baresip will not start its
/// SIP stack on loopback alone): loopback plus a veth pair on the documentation range 192.0.2.0/24,
/// routed nowhere, so SIP and RTP never touch the machine's own network (`../shared/TEST-PEERS.md`).
/// TCP and UDP on 127.0.0.1 are the namespace's own: whatever talks to the peers runs inside too
/// (`command`). UNIX sockets in the file system (Xvfb's) are shared. Needs root (CI runs as root).
public final class NetworkNamespace: @unchecked Sendable {
    public let name: String
    /// The two ends' addresses.
    public static let addresses = ["192.0.2.1", "192.0.2.2"]

    public static var isAvailable: Bool { getuid() == 0 && (try? ProcessRunner.which("ip")) != nil }

    public init() throws {
        name = "rectest-\(UUID().uuidString.prefix(8).lowercased())"
        let ip = try ProcessRunner.which("ip")
        let steps: [[String]] = [
            ["netns", "add", name],
            ["-n", name, "link", "set", "lo", "up"],
            ["-n", name, "link", "add", "v0", "type", "veth", "peer", "name", "v1"],
            ["-n", name, "addr", "add", "\(Self.addresses[0])/24", "dev", "v0"],
            ["-n", name, "addr", "add", "\(Self.addresses[1])/24", "dev", "v1"],
            ["-n", name, "link", "set", "v0", "up"],
            ["-n", name, "link", "set", "v1", "up"],
        ]
        for step in steps {
            let result = try ProcessRunner.run(ip, step)
            guard result.status == 0 else {
                remove()
                throw TestFailure("ip \(step.joined(separator: " ")): \(result.stderr)")
            }
        }
    }

    /// `executable arguments` as run inside the namespace (`ip netns exec` execs it, so the process
    /// launched is the program itself: its pid, its signals).
    public func command(_ executable: String, _ arguments: [String]) throws -> (String, [String]) {
        (try ProcessRunner.which("ip"), ["netns", "exec", name, executable] + arguments)
    }

    public func run(_ executable: String, _ arguments: [String]) throws -> ProcessResult {
        let (ip, wrapped) = try command(executable.hasPrefix("/") ? executable : ProcessRunner.which(executable), arguments)
        return try ProcessRunner.run(ip, wrapped)
    }

    /// The environment that runs a program with its clock `seconds` ahead (libfaketime), as on a
    /// workstation whose clock is wrong; monotonic time stays true.
    public static func clockAhead(seconds: Int) -> [String: String] {
        [
            "LD_PRELOAD": "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1", "FAKETIME": "+\(seconds)s",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        ]
    }

    /// Deletes the namespace (its veth pair goes with it); callers do it in a `defer`.
    public func remove() {
        _ = try? ProcessRunner.run(ProcessRunner.which("ip"), ["netns", "del", name])
    }
}
