import Crypto
import ExtrasBase64

/// Who may read `/metrics`: anyone, or HTTP Basic Auth with one user and password.
///
/// The check hashes both sides and compares the digests in constant time, so response timing tells nothing about
/// the password; credentials are never logged or put in a description.
public struct MetricsAccess: Sendable, CustomStringConvertible {
    private let expectedDigest: [UInt8]?

    /// No authentication.
    public static let open = MetricsAccess(expectedDigest: nil)

    /// Basic Auth with `user` and `password`.
    public static func basic(user: String, password: String) -> MetricsAccess {
        MetricsAccess(expectedDigest: Array(SHA256.hash(data: Array("\(user):\(password)".utf8))))
    }

    private init(expectedDigest: [UInt8]?) {
        self.expectedDigest = expectedDigest
    }

    /// Whether Basic Auth is required.
    public var requiresAuthentication: Bool { expectedDigest != nil }

    /// Whether a request with this `Authorization` header may read the metrics.
    public func allows(authorization: String?) -> Bool {
        guard let expectedDigest else { return true }
        guard let authorization, authorization.count > 6, authorization.prefix(6).lowercased() == "basic " else { return false }
        let encoded = authorization.dropFirst(6).trimmingCharacters(in: " ")
        guard let decoded = try? Base64.decode(string: encoded) else { return false }
        let digest = Array(SHA256.hash(data: decoded))
        var difference: UInt8 = 0
        for (a, b) in zip(digest, expectedDigest) { difference |= a ^ b }
        return difference == 0
    }

    public var description: String { requiresAuthentication ? "MetricsAccess(basic, credentials redacted)" : "MetricsAccess(open)" }
}

extension Substring {
    fileprivate func trimmingCharacters(in character: Character) -> String {
        String(drop { $0 == character }.reversed().drop { $0 == character }.reversed())
    }
}
