import Foundation
import RecorderCore

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
        let answer = try CollectorClient(baseURL: collectorURL, caFile: caFile.path).request(
            "POST", "/api/v1/agents/enrol",
            body: [
                "code": code, "agent_id": agentId, "hostname": hostname,
                "signing_key": identity.signer.publicKeyBase64,
            ])
        guard let token = answer["agent_token"] as? String,
            let configuration = answer["configuration"] as? [String: Any]
        else {
            throw CollectorClient.Failure(
                description: "the collector's enrolment answer lacks agent_token or configuration")
        }
        try DurableFile.write(
            try JSONSerialization.data(
                withJSONObject: ["version": 1, "collector_url": collectorURL, "agent_token": token],
                options: [.prettyPrinted, .sortedKeys]),
            to: stateDirectory.appendingPathComponent("collector.json"))
        return try apply(configuration, token: token)
    }

    /// Turns the collector's configuration document into `agent.json` plus the PEM files it names.
    public func apply(_ document: [String: Any], token: String) throws -> Result {
        guard document["version"] as? Int == 1, let nodePath = document["node_path"] as? String,
            let storage = document["storage"] as? [String: Any], let url = storage["url"] as? String,
            let auth = storage["auth"] as? String, let recipients = document["recipient_certificates_pem"] as? [String],
            !recipients.isEmpty
        else { throw CollectorClient.Failure(description: "the collector sent a configuration this agent cannot read") }
        let recipientDirectory = stateDirectory.appendingPathComponent("recipients")
        try? FileManager.default.removeItem(at: recipientDirectory)
        try DurableFile.makeDirectory(recipientDirectory)
        var recipientPaths: [String] = []
        for (index, pem) in recipients.enumerated() {
            let file = recipientDirectory.appendingPathComponent("recording-key-\(index + 1).pem")
            try DurableFile.write(Data(pem.utf8), to: file)
            recipientPaths.append(file.path)
        }
        var storageSection: [String: Any] = ["url": url]
        switch auth {
        case "agent_token":
            storageSection["auth"] = "bearer"
            storageSection["bearer_token"] = token
        case "basic", "digest":
            storageSection["auth"] = auth
            storageSection["username"] = storage["username"] ?? ""
            storageSection["password"] = storage["password"] ?? ""
        case "bearer":
            storageSection["auth"] = "bearer"
            storageSection["bearer_token"] = storage["bearer_token"] ?? ""
        default:
            storageSection["auth"] = "none"
        }
        if let caPEM = storage["ca_pem"] as? String {
            let file = stateDirectory.appendingPathComponent("storage-ca.pem")
            try DurableFile.write(Data(caPEM.utf8), to: file)
            storageSection["ca_file"] = file.path
        }
        let configuration: [String: Any] = [
            "version": 1, "agent_id": agentId, "node_path": nodePath, "state_directory": stateDirectory.path,
            "output_directory": stateDirectory.appendingPathComponent("spool").path,
            "recipient_certificates": recipientPaths, "storage": storageSection,
        ]
        let path = stateDirectory.appendingPathComponent("agent.json")
        try DurableFile.write(
            try JSONSerialization.data(withJSONObject: configuration, options: [.prettyPrinted, .sortedKeys]), to: path)
        return Result(
            configurationPath: path.path, nodePath: nodePath,
            storageTarget: document["storage_target"] as? String ?? "")
    }
}
