import AWSSigning
import Logging

/// Credentials given in code (or on the command line); the first link of the default chain when present.
public struct StaticCredentialProvider: CredentialProvider {
    public let name = "static"
    private let identity: AWSCredentialIdentity

    /// Serves the same credentials forever.
    public init(_ identity: AWSCredentialIdentity) {
        self.identity = identity
    }

    public func credentials(logger: Logger) async throws -> AWSCredentialIdentity {
        identity
    }
}
