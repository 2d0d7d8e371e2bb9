import AWSSigning
import Logging
import Synchronization

/// Tries providers in order and sticks with the first that gives credentials.
///
/// A provider that is not configured is skipped, and its reason recorded; one that is configured but fails stops
/// the chain with its error. When every provider is skipped, the error lists each one and why.
public final class CredentialProviderChain: CredentialProvider {
    public let name = "default chain"
    private let providers: [any CredentialProvider]
    private let winner = Mutex<Int?>(nil)

    /// Creates a chain over `providers`, tried first to last.
    public init(_ providers: [any CredentialProvider]) {
        self.providers = providers
    }

    /// The name of the provider that gave credentials last, if any.
    public var activeProvider: String? {
        winner.withLock { $0 }.map { providers[$0].name }
    }

    public func credentials(logger: Logger) async throws -> AWSCredentialIdentity {
        if let index = winner.withLock({ $0 }) {
            return try await providers[index].credentials(logger: logger)
        }
        var skipped: [String] = []
        for (index, provider) in providers.enumerated() {
            do {
                let identity = try await provider.credentials(logger: logger)
                winner.withLock { $0 = index }
                logger.debug("credentials resolved", metadata: ["aws.credentials.provider": "\(provider.name)"])
                return identity
            } catch let error as CredentialProviderError where error.code == .notConfigured {
                skipped.append(error.description)
            }
        }
        throw CredentialProviderError(
            .noCredentials,
            provider: name,
            message: "no credentials found; tried " + skipped.joined(separator: "; ")
        )
    }

    public func invalidate() {
        for provider in providers { provider.invalidate() }
    }
}
