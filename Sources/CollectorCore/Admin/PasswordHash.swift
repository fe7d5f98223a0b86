import Crypto
import Foundation
import _CryptoExtras

/// Password storage with scrypt (RFC 7914), a memory-hard standard KDF: `scrypt$N$r$p$salt$key`
/// (salt and key base64). The parameters travel with each hash so they can be raised later without
/// breaking stored passwords. N = 2^15, r = 8, p = 1 costs 32 MiB and ~0.1 s per check: cheap for a
/// login, expensive for an attacker with a stolen catalog.
public enum PasswordHash {
    public struct Parameters: Sendable {
        public var rounds = 1 << 15
        public var blockSize = 8
        public var parallelism = 1
        public static let standard = Parameters()
        /// For tests only: the same algorithm, a thousand times cheaper.
        public static let fast = Parameters(rounds: 1 << 5, blockSize: 8, parallelism: 1)
    }

    public static func make(_ password: String, parameters: Parameters = .standard) throws -> String {
        let salt = SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) }
        let key = try derive(password, salt: salt, parameters)
        return [
            "scrypt", "\(parameters.rounds)", "\(parameters.blockSize)", "\(parameters.parallelism)",
            salt.base64EncodedString(), key.base64EncodedString(),
        ].joined(separator: "$")
    }

    /// Constant-time comparison of the derived key; a malformed hash never matches.
    public static func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$").map(String.init)
        guard parts.count == 6, parts[0] == "scrypt", let rounds = Int(parts[1]), let blockSize = Int(parts[2]),
            let parallelism = Int(parts[3]), let salt = Data(base64Encoded: parts[4]),
            let expected = Data(base64Encoded: parts[5]),
            let actual = try? derive(
                password, salt: salt, Parameters(rounds: rounds, blockSize: blockSize, parallelism: parallelism))
        else { return false }
        return ConstantTime.equal(actual, expected)
    }

    private static func derive(_ password: String, salt: Data, _ parameters: Parameters) throws -> Data {
        let key = try KDF.Scrypt.deriveKey(
            from: Data(password.utf8), salt: salt, outputByteCount: 32, rounds: parameters.rounds,
            blockSize: parameters.blockSize, parallelism: parameters.parallelism)
        return key.withUnsafeBytes { Data($0) }
    }
}

/// Comparisons whose time does not depend on where the inputs first differ.
public enum ConstantTime {
    public static func equal<A: DataProtocol, B: DataProtocol>(_ a: A, _ b: B) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
