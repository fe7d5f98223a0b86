import Foundation

/// A real baresip softphone (Debian `baresip-core`) in a network namespace: an account that answers
/// by itself, `aufile` playing a WAV as its microphone (the call hangs up when the file ends),
/// `sndfile` recording both directions, `ctrl_tcp` (the agent's way in) and `cons` (a UDP console:
/// how the test presses the phone's buttons, since ctrl_tcp serves one client at a time).
public final class BaresipPhone: @unchecked Sendable {
    public let user: String
    public let sipPort: Int
    public let controlPort: Int
    public let consolePort: Int
    public let directory: String
    public let process: Process
    public let log: URL
    private let namespace: NetworkNamespace

    /// The account's SIP address, which others dial.
    public var uri: String { "sip:\(user)@127.0.0.1:\(sipPort)" }
    /// baresip's ctrl_tcp address, for `recorder-agent record --baresip`.
    public var control: String { "127.0.0.1:\(controlPort)" }
    /// The WAVs `sndfile` wrote: `dump-<local time>-dec.wav` (what the phone heard) and `-enc.wav`.
    public var recordings: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/sound")) ?? []).sorted().map {
            directory + "/sound/" + $0
        }
    }

    /// `sipPort` and `sipPort + 1` (baresip's TLS transport) must be free in the namespace.
    public init(
        _ user: String, in namespace: NetworkNamespace, sipPort: Int, controlPort: Int, consolePort: Int,
        microphone: String, directory: String, environment: [String: String] = [:]
    ) throws {
        (self.user, self.sipPort, self.controlPort, self.consolePort) = (user, sipPort, controlPort, consolePort)
        self.namespace = namespace
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory + "/sound", withIntermediateDirectories: true)
        let config = """
            sip_listen 127.0.0.1:\(sipPort)
            audio_player aubridge,nil
            audio_source aufile,\(microphone)
            audio_alert aubridge,nil
            module_path /usr/lib/baresip/modules
            module g711.so
            module aufile.so
            module aubridge.so
            module sndfile.so
            snd_path \(directory)/sound
            module account.so
            module_app menu.so
            module_app ctrl_tcp.so
            ctrl_tcp_listen 127.0.0.1:\(controlPort)
            module_app cons.so
            cons_listen 127.0.0.1:\(consolePort)

            """
        try config.write(toFile: directory + "/config", atomically: true, encoding: .utf8)
        try "<sip:\(user)@127.0.0.1:\(sipPort)>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA\n".write(
            toFile: directory + "/accounts", atomically: true, encoding: .utf8)
        let (ip, arguments) = try namespace.command(try ProcessRunner.which("baresip"), ["-f", directory])
        (process, log) = try ProcessRunner.launch(ip, arguments, environment: environment)
        guard ProcessRunner.waitForOutput(containing: "baresip is ready", in: log, of: process, seconds: 20) != nil
        else {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            ProcessRunner.kill(process)
            throw TestFailure("baresip \(user) did not start: \(text)")
        }
    }

    /// A menu command on the phone's console, as a person would type it: `/dial sip:…`, `/hold`,
    /// `/resume`, `/transfer sip:…`, `/hangup`.
    public func press(_ command: String) throws {
        let sent = try namespace.run(
            "bash", ["-c", "printf '%s\\n' \"$1\" > /dev/udp/127.0.0.1/\(consolePort)", "press", command])
        guard sent.status == 0 else { throw TestFailure("console \(user) \(command): \(sent.stderr)") }
    }

    /// What the phone printed so far.
    public var printed: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    public func stop() { ProcessRunner.kill(process) }
}
