import AWSCredentials
import AWSSigning
import Logging

/// Hands out one identity until `invalidate()` is called, then the next, like a source whose session is refreshed.
public final class RotatingCredentialProvider: CredentialProvider {
    public let name = "rotating test credentials"
    private let identity: @Sendable (Int) -> AWSCredentialIdentity
    private let generation = Locked(0)

    /// The identities in turn; the last one stays once they are used up.
    public init(_ identities: [AWSCredentialIdentity]) {
        precondition(!identities.isEmpty)
        identity = { identities[min($0, identities.count - 1)] }
    }

    /// A new access key id (`AKIDGEN0`, `AKIDGEN1`, …) after every invalidation, with one secret.
    public init() {
        identity = { AWSCredentialIdentity(accessKeyID: "AKIDGEN\($0)", secretAccessKey: "secret") }
    }

    public func credentials(logger: Logger) async throws -> AWSCredentialIdentity {
        identity(generation.value)
    }

    public func invalidate() {
        generation.withLock { $0 += 1 }
    }

    /// How often `invalidate()` was called.
    public var invalidations: Int { generation.value }
}
