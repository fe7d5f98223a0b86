import ArgumentParser
import Foundation
import RecorderAgent
import RecorderCore
import StorageClient
import TestSupport

/// One enrolled agent of the load benchmark: a real token and Ed25519 identity, real chained manifests,
/// and the agent's own upload and report code; only the screen is missing (segment bytes are random,
/// which the collector cannot tell from ciphertext). Each instance is driven by one worker thread.
final class SimulatedFleetAgent: @unchecked Sendable {
    let token: String
    let agent: SimulatedAgent
    let store: WebDAVClient
    let link: CollectorLink
    private var unreported: [[UInt8]] = []
    private var payload = Data()
    var id: String { agent.id }

    /// Nothing left for this worker in the phase (not a failure).
    struct Finished: Error {}

    init(id: String, token: String, signer: ManifestSigner, storageURL: String, collector: CollectorProcess) {
        self.token = token
        agent = SimulatedAgent(id: id, nodePath: "/bench/site", signer: signer, epoch: Date())
        store = WebDAVClient(
            target: StorageTarget(baseURL: storageURL, credentials: .bearer(token: token), caFile: collector.caFile))
        link = CollectorLink(client: CollectorClient(baseURL: collector.url, caFile: collector.caFile, token: token))
    }

    /// Enrols with a fresh one-time code, as `recorder-agent enroll` does.
    static func enrol(index: Int, at collector: CollectorProcess) throws -> SimulatedFleetAgent {
        let created = try ProcessRunner.run(
            ProcessRunner.product("recorder-collector"),
            ["admin", "enrolment-code", "create", "/bench/site", "--data-dir", collector.dataDirectory])
        guard created.status == 0, let code = created.stdout.split(separator: "\t").first else {
            throw ValidationError("enrolment-code create failed: \(created.stderr)")
        }
        let signer = ManifestSigner.generate()
        let id = "bench-ws-\(index)"
        let answer = try CollectorClient(baseURL: collector.url, caFile: collector.caFile).exchange(
            "POST", "/api/v1/agents/enrol",
            body: EnrolmentRequest(
                code: String(code), agentId: id, hostname: "\(id).bench", signingKey: signer.publicKeyBase64),
            answer: EnrolmentResponse.self)
        let (token, url) = (answer.agentToken, answer.configuration.storage.url)
        return SimulatedFleetAgent(id: id, token: token, signer: signer, storageURL: url, collector: collector)
    }

    /// Stores the next segment and its manifest file, like `SpoolUploader`; with `apache`, to that
    /// server instead (the baseline; nothing is queued for reporting then).
    func uploadNext(segmentBytes: Int, to apache: ApacheDAVServer? = nil) throws {
        if payload.count != segmentBytes {
            var generator = SystemRandomNumberGenerator()
            payload = Data((0..<segmentBytes).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
        // Each segment's bytes differ (its sequence in front), as ciphertexts do.
        let sequence = agent.sequence + 1
        withUnsafeBytes(of: sequence.littleEndian) { payload.replaceSubrange(0..<8, with: $0) }
        let segment = try agent.nextSegment(callId: "bench-call-\(sequence / 5)", sealed: payload)
        let client =
            apache.map {
                WebDAVClient(
                    target: StorageTarget(
                        baseURL: $0.baseURL, credentials: .digest(user: $0.user, password: $0.password),
                        caFile: $0.caFile))
            } ?? store
        try agent.upload(segment, with: client)
        if apache == nil { unreported.append([UInt8](segment.manifestBytes)) }
    }

    /// Reports the oldest stored manifest not yet reported.
    func reportNext() throws {
        guard !unreported.isEmpty else { throw Finished() }
        let manifest = unreported.removeFirst()
        guard try link.reportManifest(manifest) == .added else {
            throw ValidationError("the collector had \(id)'s manifest already")
        }
    }
}

/// One bounded phase: `workers` threads call `body(worker)` until the time is up (a call under way
/// finishes), each call timed.
struct LoadPhase {
    var completed = 0
    var failures = 0
    var firstError: String?
    var latenciesMs: [Double] = []
    var seconds = 0.0

    static func run(workers: Int, seconds: Double, _ body: @escaping @Sendable (Int) throws -> Void) -> LoadPhase {
        let lock = NSLock()
        nonisolated(unsafe) var phase = LoadPhase()
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        let started = ContinuousClock.now
        let group = DispatchGroup()
        for worker in 0..<workers {
            group.enter()
            Thread {
                defer { group.leave() }
                while ContinuousClock.now < deadline {
                    let begin = ContinuousClock.now
                    do {
                        try body(worker)
                        let took = ContinuousClock.now - begin
                        lock.withLock {
                            phase.completed += 1
                            phase.latenciesMs.append(took.milliseconds)
                        }
                    } catch is SimulatedFleetAgent.Finished {
                        return
                    } catch {
                        lock.withLock {
                            phase.failures += 1
                            if phase.firstError == nil { phase.firstError = "\(error)" }
                        }
                        return
                    }
                }
            }.start()
        }
        group.wait()
        let elapsed = ContinuousClock.now - started
        return lock.withLock {
            phase.seconds = elapsed.timeInterval
            return phase
        }
    }

    func percentile(_ fraction: Double) -> Double {
        guard !latenciesMs.isEmpty else { return 0 }
        let sorted = latenciesMs.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * fraction).rounded(.up)))]
    }

    func print(_ label: String, megabytesEach: Double?) {
        let rate = Double(completed) / max(seconds, 0.001)
        let throughput = megabytesEach.map { String(format: "%9.1f", rate * $0) } ?? "        -"
        Swift.print(
            label.padding(toLength: 38, withPad: " ", startingAt: 0)
                + String(format: "%7d %10.1f ", completed, rate) + throughput
                + String(format: " %8.1f %8.1f", percentile(0.5), percentile(0.99)))
    }
}
