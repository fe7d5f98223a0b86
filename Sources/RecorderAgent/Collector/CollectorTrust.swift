import Crypto
import Foundation
import X509

/// How an agent comes to trust a collector: a CA file the admin copied, or the CA's SHA-256
/// fingerprint the collector printed. With a fingerprint the agent downloads the CA once without
/// verification (it is public), compares its fingerprint, and trusts it only on an exact match; every
/// later request verifies against that CA.
public enum CollectorTrust {
    public static func pinnedCA(collector: String, fingerprint: String) throws -> String {
        let client = CollectorClient(baseURL: collector, caFile: nil)
        let (status, data) = try client.raw("GET", "/api/v1/ca.pem", verifyPeer: false)
        guard status == 200 else {
            throw CollectorClient.Failure(
                description:
                    "GET \(collector)/api/v1/ca.pem: HTTP \(status); use --ca with the collector's CA file instead")
        }
        let pem = String(decoding: data, as: UTF8.self)
        guard let certificate = try? Certificate(pemEncoded: pem) else {
            throw CollectorClient.Failure(description: "\(collector) sent no PEM certificate as its CA")
        }
        let presented = try fingerprintOf(certificate)
        guard normalize(presented) == normalize(fingerprint) else {
            throw CollectorClient.Failure(
                description:
                    "the collector's CA fingerprint is \(presented), not the \(fingerprint) you gave: do not enrol; check the address and ask the admin"
            )
        }
        return pem
    }

    public static func fingerprintOf(_ certificate: Certificate) throws -> String {
        let der = try certificate.serializeAsPEM().derBytes
        return SHA256.hash(data: der).map { String(format: "%02X", $0) }.joined(separator: ":")
    }

    /// Accepts `AB:CD:…`, `abcd…`, with or without a `sha256` prefix.
    static func normalize(_ fingerprint: String) -> String {
        var text = fingerprint.lowercased()
        for prefix in ["sha256:", "sha256 ", "sha256="] where text.hasPrefix(prefix) { text.removeFirst(prefix.count) }
        return text.filter(\.isHexDigit)
    }
}
