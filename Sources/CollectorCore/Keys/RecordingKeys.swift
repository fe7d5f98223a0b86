import Crypto
import Foundation
import RecorderCore
import SQLKit
import SwiftASN1
import X509
import _CryptoExtras

/// The RSA key pairs segments are sealed for. Agents seal every segment for every *active* certificate;
/// rotation adds a key (both stay active until the old one is retired), retirement stops new segments
/// being sealed for a key, and retired keys stay so older segments still open. Certificates live in
/// the catalog; private keys in `<data>/keys/<id>.key` (0600), never in the database.
public struct RecordingKeys: Sendable {
    public struct Key: Codable, Sendable, Equatable {
        public var id: String
        public var certificatePEM: String
        public var createdAt: String
        public var retiredAt: String?
        public var active: Bool { retiredAt == nil }

        enum CodingKeys: String, CodingKey {
            case id
            case certificatePEM = "certificate_pem"
            case createdAt = "created_at"
            case retiredAt = "retired_at"
        }
    }

    let catalog: Catalog
    let directory: URL
    let keyBits: Int

    /// 3072-bit RSA (NIST's pick for use past 2030); tests use 2048 for speed.
    public init(catalog: Catalog, directory: URL, keyBits: Int = 3072) {
        self.catalog = catalog
        self.directory = directory
        self.keyBits = keyBits
    }

    public func list() async throws -> [Key] {
        try await catalog.sql.raw("SELECT * FROM recording_keys ORDER BY created_at, id").all().map { row in
            Key(
                id: try row.decode(column: "id", as: String.self),
                certificatePEM: try row.decode(column: "certificate_pem", as: String.self),
                createdAt: try row.decode(column: "created_at", as: String.self),
                retiredAt: try row.decode(column: "retired_at", as: String?.self))
        }
    }

    public func active() async throws -> [Key] { try await list().filter(\.active) }

    /// Creates a key pair and its self-signed certificate, active at once.
    @discardableResult
    public func add(by actor: Actor) async throws -> Key {
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let size: _RSA.Signing.KeySize = keyBits >= 4096 ? .bits4096 : keyBits >= 3072 ? .bits3072 : .bits2048
        let privateKey = try _RSA.Signing.PrivateKey(keySize: size)
        let id = String(
            SHA256.hash(data: privateKey.publicKey.derRepresentation).hexString
                .prefix(16))
        let name = try DistinguishedName {
            OrganizationName("recorder-collector")
            CommonName("recording key \(id)")
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(privateKey.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(20 * 365 * 86_400),
            issuer: name, subject: name, signatureAlgorithm: .sha256WithRSAEncryption,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(keyEncipherment: true))
            }, issuerPrivateKey: .init(privateKey))
        let pem = try certificate.serializeAsPEM().pemString + "\n"
        let keyURL = directory.appendingPathComponent("\(id).key")
        guard
            FileManager.default.createFile(
                atPath: keyURL.path, contents: Data(privateKey.pemRepresentation.utf8),
                attributes: [.posixPermissions: 0o600])
        else { throw CollectorError(.invalid, "cannot write the recording key \(keyURL.path)") }
        let key = Key(id: id, certificatePEM: pem, createdAt: Timestamp.string(now), retiredAt: nil)
        try await catalog.transaction { database in
            try await database.raw(
                """
                INSERT INTO recording_keys (id, certificate_pem, created_at)
                VALUES (\(bind: id), \(bind: pem), \(bind: key.createdAt))
                """
            ).run()
            try await AuditLog.record("recording_key.add", target: "recording_key:\(id)", by: actor, in: database)
        }
        return key
    }

    /// Stops sealing new segments for `id`; refused for the last active key (agents would have none).
    public func retire(_ id: String, by actor: Actor) async throws {
        let keys = try await list()
        guard let key = keys.first(where: { $0.id == id }) else {
            throw CollectorError(.notFound, "no recording key \(id) (see `recorder-collector keys list`)")
        }
        guard key.active else { throw CollectorError(.conflict, "recording key \(id) is retired already") }
        guard keys.filter(\.active).count > 1 else {
            throw CollectorError(
                .conflict, "\(id) is the only active recording key; rotate first (`recorder-collector keys rotate`)")
        }
        let postgres = catalog.isPostgres
        try await catalog.transaction { database in
            // Counted again inside the transaction (two retires at once must not leave none active):
            // SQLite's transactions already take turns; on PostgreSQL, a lock for retiring.
            if postgres { try await database.raw("SELECT pg_advisory_xact_lock(7274172)").run() }
            let active = try await database.raw("SELECT COUNT(*) AS n FROM recording_keys WHERE retired_at IS NULL").first()?
                .decode(column: "n", as: Int.self) ?? 0
            guard active > 1 else {
                throw CollectorError(.conflict, "\(id) is the only active recording key; rotate first (`recorder-collector keys rotate`)")
            }
            try await database.raw(
                "UPDATE recording_keys SET retired_at = \(bind: Timestamp.now()) WHERE id = \(bind: id)"
            ).run()
            try await AuditLog.record("recording_key.retire", target: "recording_key:\(id)", by: actor, in: database)
        }
    }

    /// The content key of a sealed object read by ranges (`SealedLayout`), with whichever key it was
    /// sealed for.
    func contentKey(of layout: SealedLayout) async throws -> SymmetricKey {
        try await withEachKey(opening: "this recording") { try $0.contentKey(of: layout) }
    }

    /// Opens a sealed segment with whichever key (active or retired) it was sealed for.
    public func open(_ sealed: [UInt8]) async throws -> [UInt8] {
        try await withEachKey(opening: "this segment") { try $0.open(sealed) }
    }

    /// `body`'s answer with the first key (active or retired) it works with; what each other key
    /// said, when none does.
    private func withEachKey<T>(opening what: String, _ body: (SegmentOpener) throws -> T) async throws -> T {
        var problems: [String] = []
        for key in try await list() {
            let keyPath = directory.appendingPathComponent("\(key.id).key").path
            guard let keyPEM = try? String(contentsOfFile: keyPath, encoding: .utf8) else {
                problems.append("\(key.id): private key \(keyPath) missing")
                continue
            }
            let opener = try SegmentOpener(certificatePEM: key.certificatePEM, privateKeyPEM: keyPEM)
            do {
                return try body(opener)
            } catch {
                problems.append("\(key.id): \(error)")
            }
        }
        throw CollectorError(
            .invalid, "no recording key opens \(what) (\(problems.isEmpty ? "no keys" : problems.joined(separator: "; ")))")
    }
}
