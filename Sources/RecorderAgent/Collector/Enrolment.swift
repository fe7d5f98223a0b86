import Foundation
import RecorderCore
import StorageClient

/// `recorder-agent enroll`: exchanges a one-time code for this workstation's agent token and writes
/// everything the agent then needs into its state directory (0700): `collector.json` (URL, token),
/// `collector-ca.pem`, `recipients/*.pem`, `storage-ca.pem`, and `agent.json`, a configuration in the
/// documented format pointing at those files (0600: it holds storage credentials).
public struct Enrolment: Sendable {
    public let collectorURL: String
    public let stateDirectory: URL
    public let agentId: String

    public init(collectorURL: String, stateDirectory: URL, agentId: String) {
        self.collectorURL = collectorURL.hasSuffix("/") ? String(collectorURL.dropLast()) : collectorURL
        self.stateDirectory = stateDirectory
        self.agentId = agentId
    }

    public struct Result: Sendable {
        public let configurationPath: String
        public let nodePath: String
        public let storageTarget: String
    }

    public func enrol(code: String, caPEM: String, hostname: String) throws -> Result {
        try DurableFile.makeDirectory(stateDirectory)
        let caFile = stateDirectory.appendingPathComponent("collector-ca.pem")
        try DurableFile.write(Data(caPEM.utf8), to: caFile)
        // The signing key the manifests use; made now if this is the agent's first start.
        let identity = try ManifestChain(stateDirectory: stateDirectory.path, agentId: agentId, nodePath: "/")
        let answer = try CollectorClient(baseURL: collectorURL, caFile: caFile.path).exchange(
            "POST", "/api/v1/agents/enrol",
            body: EnrolmentRequest(
                code: code, agentId: agentId, hostname: hostname, signingKey: identity.signer.publicKeyBase64),
            answer: EnrolmentResponse.self)
        try DurableFile.write(
            try StrictJSON.encode(EnrolmentRecord(collectorURL: collectorURL, agentToken: answer.agentToken), pretty: true),
            to: stateDirectory.appendingPathComponent("collector.json"))
        return try apply(answer.configuration, token: answer.agentToken)
    }

    /// Turns the collector's configuration document into `agent.json` plus the PEM files it names.
    /// `existing`: the configuration there now, whose own settings (display, recording, spool limits)
    /// are kept; only what the collector decides (node path, storage, recording keys) is replaced.
    public func apply(_ document: AgentConfigurationDocument, token: String, onto existing: AgentConfiguration? = nil)
        throws -> Result
    {
        guard !document.recipientCertificatesPEM.isEmpty else {
            throw CollectorClient.Failure(
                description: "the collector sent no recording key certificate; an admin must add one (recorder-collector keys add)")
        }
        let recipientDirectory = stateDirectory.appendingPathComponent("recipients")
        try? FileManager.default.removeItem(at: recipientDirectory)
        try DurableFile.makeDirectory(recipientDirectory)
        var recipientPaths: [String] = []
        for (index, pem) in document.recipientCertificatesPEM.enumerated() {
            let file = recipientDirectory.appendingPathComponent("recording-key-\(index + 1).pem")
            try DurableFile.write(Data(pem.utf8), to: file)
            recipientPaths.append(file.path)
        }
        let storage = document.storage
        var target = StorageTarget(baseURL: storage.url)
        switch storage.auth {
        case .agentToken: target.credentials = .bearer(token: token)
        case .basic: target.credentials = .basic(user: storage.username ?? "", password: storage.password ?? "")
        case .digest: target.credentials = .digest(user: storage.username ?? "", password: storage.password ?? "")
        case .bearer: target.credentials = .bearer(token: storage.bearerToken ?? "")
        case .none: target.credentials = .none
        }
        if let caPEM = storage.caPEM {
            let file = stateDirectory.appendingPathComponent("storage-ca.pem")
            try DurableFile.write(Data(caPEM.utf8), to: file)
            target.caFile = file.path
        }
        var configuration = existing ?? AgentConfiguration()
        configuration.agentId = agentId
        configuration.nodePath = document.nodePath
        configuration.stateDirectory = stateDirectory.path
        configuration.outputDirectory = configuration.outputDirectory ?? stateDirectory.appendingPathComponent("spool").path
        configuration.recipientCertificates = recipientPaths
        configuration.storage = target
        let path = stateDirectory.appendingPathComponent("agent.json")
        try DurableFile.write(try configuration.fileBytes(), to: path)
        return Result(configurationPath: path.path, nodePath: document.nodePath, storageTarget: document.storageTarget)
    }

    /// At every start of an enrolled agent: asks the collector for the configuration it has now (a
    /// new storage account, a rotated recording key, a moved node path) and rewrites `agent.json`
    /// with it. Only the file `enroll` wrote is refreshed (`configurationPath` must be the state
    /// directory's `agent.json`); a collector that cannot be reached leaves it as it is, so a
    /// workstation records with its last configuration while the network is down.
    public static func refresh(configurationPath: String) -> Refresh {
        guard let current = try? AgentConfiguration.load(path: configurationPath),
            let state = current.stateDirectory, let agentId = current.agentId,
            URL(fileURLWithPath: configurationPath).standardizedFileURL
                == URL(fileURLWithPath: state).appendingPathComponent("agent.json").standardizedFileURL
        else { return .notEnrolled }
        let link: CollectorLink
        do {
            guard let loaded = try CollectorLink.load(stateDirectory: state), let token = loaded.client.token else {
                return .notEnrolled
            }
            link = loaded
            // At most a few seconds: a collector that does not answer must not delay the recording.
            let cancellation = TransferCancellation()
            DispatchQueue.global().asyncAfter(deadline: .now() + 10) { cancellation.abort() }
            let document = try link.client.exchange(
                "GET", "/api/v1/agent/config", body: String?.none, answer: AgentConfigurationDocument.self,
                abort: cancellation)
            let enrolment = Enrolment(
                collectorURL: link.client.baseURL, stateDirectory: URL(fileURLWithPath: state), agentId: agentId)
            _ = try enrolment.apply(document, token: token, onto: current)
            let updated = try AgentConfiguration.load(path: configurationPath)
            return updated == current ? .unchanged : .updated
        } catch {
            return .kept(reason: "\(error)")
        }
    }

    public enum Refresh: Equatable, Sendable {
        /// Not an enrolled agent's own `agent.json`: nothing to ask.
        case notEnrolled
        case unchanged
        case updated
        /// The collector could not be asked (or refused): the file stays as it was.
        case kept(reason: String)
    }
}
