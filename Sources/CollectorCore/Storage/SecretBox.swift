import Crypto
import Foundation

/// Encrypts the storage credentials admins enter (passwords, bearer tokens) before they reach the
/// catalog: AES-256-GCM under a key kept in the data directory (0600), never in the database, so a
/// copied catalog or a database backup does not carry usable credentials.
public struct SecretBox: Sendable {
    private let key: SymmetricKey

    public init(key: SymmetricKey) {
        self.key = key
    }

    /// Loads the key file, creating it (0600, in a 0700 directory) on first use.
    public static func loadOrCreate(at url: URL) throws -> SecretBox {
        if let data = FileManager.default.contents(atPath: url.path) {
            guard data.count == 32 else {
                throw CollectorError(
                    .invalid,
                    "\(url.path) is not a 32-byte key; restore it from backup (credentials sealed with another key cannot be read)"
                )
            }
            return SecretBox(key: SymmetricKey(data: data))
        }
        let key = SymmetricKey(size: .bits256)
        let data = key.withUnsafeBytes { Data($0) }
        let created = FileManager.default.createFile(
            atPath: url.path, contents: data, attributes: [.posixPermissions: 0o600])
        guard created else { throw CollectorError(.invalid, "cannot create the secrets key \(url.path)") }
        return SecretBox(key: key)
    }

    /// A key for another purpose, derived from this one (HKDF-SHA256 with `label`), so the data
    /// directory keeps one secret.
    public func derivedKey(_ label: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data(label.utf8), outputByteCount: 32)
    }

    public func seal(_ secret: String) throws -> String {
        try AES.GCM.seal(Data(secret.utf8), using: key).combined!.base64EncodedString()
    }

    public func open(_ sealed: String) throws -> String {
        guard let data = Data(base64Encoded: sealed) else { throw CollectorError(.invalid, "a sealed secret is damaged") }
        return String(decoding: try AES.GCM.open(AES.GCM.SealedBox(combined: data), using: key), as: UTF8.self)
    }
}
