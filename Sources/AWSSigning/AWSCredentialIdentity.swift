import Foundation

/// A set of AWS credentials: what a request is signed with.
///
/// The secret and the session token never appear in `description` or `debugDescription`, so an identity can be
/// logged or put into an error message without leaking them.
public struct AWSCredentialIdentity: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The access key id (`AKIA…` for long-term keys, `ASIA…` for temporary ones).
    public var accessKeyID: String
    /// The secret access key.
    public var secretAccessKey: String
    /// The session token of temporary credentials; signed as `X-Amz-Security-Token`.
    public var sessionToken: String?
    /// When temporary credentials stop working; `nil` for long-term keys.
    public var expiration: Date?

    /// Creates an identity from its parts.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    public var description: String {
        var text = "AWSCredentialIdentity(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>"
        if sessionToken != nil { text += ", sessionToken: <redacted>" }
        if let expiration { text += ", expiration: \(expiration)" }
        return text + ")"
    }

    public var debugDescription: String { description }
}
