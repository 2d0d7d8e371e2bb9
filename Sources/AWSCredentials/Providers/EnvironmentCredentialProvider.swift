import Foundation
import AWSSigning
import Logging

/// Credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` (or the legacy
/// `AWS_SECURITY_TOKEN`), with an optional `AWS_CREDENTIAL_EXPIRATION`.
///
/// Empty values count as unset. Only one of the two keys set is a configuration error, not a silent skip.
public struct EnvironmentCredentialProvider: CredentialProvider {
    public let name = "environment"
    private let environment: [String: String]

    /// Reads from the given environment (by default the process's).
    public init(environment: [String: String] = ProcessEnvironment.current) {
        self.environment = environment
    }

    public func credentials(logger: Logger) async throws -> AWSCredentialIdentity {
        let keyID = environment.nonEmpty("AWS_ACCESS_KEY_ID")
        let secret = environment.nonEmpty("AWS_SECRET_ACCESS_KEY")
        switch (keyID, secret) {
        case (nil, nil):
            throw CredentialProviderError(.notConfigured, provider: name, message: "AWS_ACCESS_KEY_ID is not set")
        case (.some, nil):
            throw CredentialProviderError(
                .invalidConfiguration,
                provider: name,
                message: "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
            )
        case (nil, .some):
            throw CredentialProviderError(
                .invalidConfiguration,
                provider: name,
                message: "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"
            )
        case (.some(let keyID), .some(let secret)):
            let expiration = try ISO8601.expiration(
                environment.nonEmpty("AWS_CREDENTIAL_EXPIRATION"),
                source: "AWS_CREDENTIAL_EXPIRATION",
                provider: name
            )
            return AWSCredentialIdentity(
                accessKeyID: keyID,
                secretAccessKey: secret,
                sessionToken: environment.nonEmpty("AWS_SESSION_TOKEN") ?? environment.nonEmpty("AWS_SECURITY_TOKEN"),
                expiration: expiration
            )
        }
    }
}
