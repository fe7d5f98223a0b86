import Crypto
import Foundation

/// Secrets handed out by the collector (admin sessions, agent tokens, enrolment codes): 32 random
/// bytes, base64url, with a prefix naming their kind so a leaked one is recognisable in a log or a
/// secret scanner. The catalog stores only their SHA-256, so a stolen catalog grants nothing; lookup
/// is by that hash, and the final comparison is constant-time.
public enum BearerToken {
    public static func make(prefix: String) -> String {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return prefix + "_"
            + bytes.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).hexString
    }

    /// The token of an `Authorization: Bearer …` header, if it is one.
    package static func presented(in authorization: String?) -> String? {
        guard let value = authorization, value.lowercased().hasPrefix("bearer ") else { return nil }
        let token = value.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    public static func matches(_ token: String, hash stored: String) -> Bool {
        ConstantTime.equal(Array(hash(token).utf8), Array(stored.utf8))
    }
}
