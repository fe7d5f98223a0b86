import CollectorCore
import Crypto
import Foundation
import RecorderCore
import SwiftASN1
import X509

/// The collector's HTTPS identity. Either an admin-configured certificate and key (PEM), or, by default,
/// a private CA made on first start in `<data>/tls/` (P-256, 10 years) and a server certificate it
/// signs for the configured host names (397 days, renewed at start when under 30 days remain or when
/// the host names change). Agents pin the CA by its SHA-256 fingerprint, printed at every start.
public struct CollectorTLS: Sendable {
    public let certificateChainPath: String
    public let privateKeyPath: String
    /// The CA agents trust (PEM path), for the self-made identity; nil for a configured certificate.
    public let caPath: String?
    /// SHA-256 of the CA certificate's DER (the configured certificate's own, otherwise), as
    /// colon-separated upper-case hex, the form `openssl x509 -fingerprint -sha256` prints.
    public let fingerprint: String

    public static func configured(certificate: String, key: String) throws -> CollectorTLS {
        guard let pem = try? String(contentsOfFile: certificate, encoding: .utf8),
            let block = try? PEMDocument.parseMultiple(pemString: pem).first,
            let first = try? Certificate(pemDocument: block)
        else {
            throw TLSSetupError("tls_certificate \(certificate): not a readable PEM certificate")
        }
        guard FileManager.default.isReadableFile(atPath: key) else {
            throw TLSSetupError("tls_key \(key): cannot read it")
        }
        return CollectorTLS(
            certificateChainPath: certificate, privateKeyPath: key, caPath: nil,
            fingerprint: try fingerprint(of: first))
    }

    /// Loads `<directory>/ca.pem` etc., creating what is missing or due.
    public static func selfManaged(in directory: URL, hostnames: [String], now: Date = Date()) throws -> CollectorTLS {
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let caPath = directory.appendingPathComponent("ca.pem").path
        let caKeyPath = directory.appendingPathComponent("ca.key").path
        let serverPath = directory.appendingPathComponent("server.pem").path
        let serverKeyPath = directory.appendingPathComponent("server.key").path

        let (ca, caKey) = try loadOrCreateCA(certificatePath: caPath, keyPath: caKeyPath, now: now)
        if try serverCertificateIsDue(at: serverPath, hostnames: hostnames, ca: ca, now: now) {
            let key = P256.Signing.PrivateKey()
            let server = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
                notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(397 * 86_400),
                issuer: ca.subject,
                subject: try DistinguishedName { CommonName(hostnames.first ?? "recorder-collector") },
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                    try ExtendedKeyUsage([.serverAuth])
                    SubjectAlternativeNames(hostnames.map(generalName))
                }, issuerPrivateKey: .init(caKey))
            try writeSecret(key.pemRepresentation, to: serverKeyPath)
            // The chain served: the server certificate, then the CA.
            try write(
                try server.serializeAsPEM().pemString + "\n" + ca.serializeAsPEM().pemString + "\n", to: serverPath)
        }
        return CollectorTLS(
            certificateChainPath: serverPath, privateKeyPath: serverKeyPath, caPath: caPath,
            fingerprint: try fingerprint(of: ca))
    }

    public static func fingerprint(of certificate: Certificate) throws -> String {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return SHA256.hash(data: serializer.serializedBytes).map { String(format: "%02X", $0) }.joined(separator: ":")
    }

    /// The host names a fresh collector answers for: loopback and this machine's name.
    public static func defaultHostnames() -> [String] {
        var names = ["localhost", "127.0.0.1", "::1"]
        let host = ProcessInfo.processInfo.hostName
        if !host.isEmpty, !names.contains(host) { names.append(host) }
        return names
    }

    private static func loadOrCreateCA(certificatePath: String, keyPath: String, now: Date) throws
        -> (Certificate, P256.Signing.PrivateKey)
    {
        if let pem = try? String(contentsOfFile: certificatePath, encoding: .utf8),
            let keyPEM = try? String(contentsOfFile: keyPath, encoding: .utf8)
        {
            guard let certificate = try? Certificate(pemEncoded: pem),
                let key = try? P256.Signing.PrivateKey(pemRepresentation: keyPEM)
            else {
                throw TLSSetupError(
                    "\(certificatePath) or \(keyPath) is damaged; restore them from backup (agents pin this CA)")
            }
            return (certificate, key)
        }
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("recorder-collector")
            CommonName("recorder-collector CA \(UUID().uuidString.prefix(8))")
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: .init(key.publicKey))
            }, issuerPrivateKey: .init(key))
        try writeSecret(key.pemRepresentation, to: keyPath)
        try write(try certificate.serializeAsPEM().pemString + "\n", to: certificatePath)
        return (certificate, key)
    }

    private static func serverCertificateIsDue(at path: String, hostnames: [String], ca: Certificate, now: Date)
        throws -> Bool
    {
        // The file holds the chain (server, then CA): the server certificate is the first block.
        guard let pem = try? String(contentsOfFile: path, encoding: .utf8),
            let first = try? PEMDocument.parseMultiple(pemString: pem).first,
            let server = try? Certificate(pemDocument: first)
        else { return true }
        guard let names = try server.extensions.subjectAlternativeNames else { return true }
        let present = Set(names.map(nameKey))
        let wanted = Set(hostnames.map { nameKey(generalName($0)) })
        return server.issuer != ca.subject || server.notValidAfter.timeIntervalSince(now) < 30 * 86_400
            || present != wanted
    }

    /// A comparable form of a SAN entry (the parsed and the built ones differ in representation).
    private static func nameKey(_ name: GeneralName) -> String {
        switch name {
        case .dnsName(let host): "dns:\(host.lowercased())"
        case .ipAddress(let bytes): "ip:" + bytes.bytes.hexString
        default: "other:\(name)"
        }
    }

    private static func generalName(_ host: String) -> GeneralName {
        if let address = IPAddressBytes(host) { return .ipAddress(ASN1OctetString(contentBytes: address[...])) }
        return .dnsName(host)
    }

    private static func writeSecret(_ text: String, to path: String) throws {
        guard
            FileManager.default.createFile(
                atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw TLSSetupError("cannot write \(path)") }
    }

    private static func write(_ text: String, to path: String) throws {
        guard
            FileManager.default.createFile(
                atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o644])
        else { throw TLSSetupError("cannot write \(path)") }
    }
}

public struct TLSSetupError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// inet_pton for the SAN: 4 bytes for IPv4, 16 for IPv6, nil for a DNS name.
private func IPAddressBytes(_ text: String) -> [UInt8]? {
    var v4 = in_addr()
    if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: v4) { Array($0) } }
    var v6 = in6_addr()
    if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } }
    return nil
}
