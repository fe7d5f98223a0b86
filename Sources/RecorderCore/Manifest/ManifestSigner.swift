import Crypto
import Foundation

/// The agent's Ed25519 identity: signs manifests; its public key is registered with the collector.
public struct ManifestSigner: Sendable {
    private let rawPrivateKey: Data

    public init(rawPrivateKey: Data) throws {
        _ = try Curve25519.Signing.PrivateKey(rawRepresentation: rawPrivateKey)
        self.rawPrivateKey = rawPrivateKey
    }

    /// A new random identity.
    public static func generate() -> ManifestSigner {
        try! ManifestSigner(rawPrivateKey: Curve25519.Signing.PrivateKey().rawRepresentation)
    }

    public var rawRepresentation: Data { rawPrivateKey }

    public var publicKeyBase64: String {
        (try! Curve25519.Signing.PrivateKey(rawRepresentation: rawPrivateKey)).publicKey.rawRepresentation
            .base64EncodedString()
    }

    /// Returns the manifest with its signature filled in.
    public func sign(_ manifest: SegmentManifest) throws -> SegmentManifest {
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: rawPrivateKey)
        var signed = manifest
        signed.signature = .init(
            publicKey: key.publicKey.rawRepresentation.base64EncodedString(),
            value: try key.signature(for: manifest.signedBytes()).base64EncodedString())
        return signed
    }
}

public enum ManifestVerification {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Checks the signature; `expectedPublicKey` (base64) pins the key the collector enrolled.
    public static func verifySignature(_ manifest: SegmentManifest, expectedPublicKey: String? = nil) throws {
        guard let signature = manifest.signature else { throw Failure(description: "manifest is not signed") }
        guard signature.algorithm == "ed25519" else {
            throw Failure(description: "unsupported signature algorithm \(signature.algorithm)")
        }
        if let expectedPublicKey, expectedPublicKey != signature.publicKey {
            throw Failure(description: "signed by a key that is not the agent's enrolled key")
        }
        guard let keyBytes = Data(base64Encoded: signature.publicKey),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyBytes),
            let value = Data(base64Encoded: signature.value)
        else { throw Failure(description: "malformed signature or public key") }
        guard key.isValidSignature(value, for: try manifest.signedBytes()) else {
            throw Failure(description: "signature does not match the manifest's contents (edited after signing)")
        }
    }

    public static func sha256Hex(_ data: some DataProtocol) -> String {
        SHA256.hash(data: data).hexString
    }
}
