import AWSSigning
import Logging

/// A source of AWS credentials.
///
/// A provider that does not apply (its environment variables are unset, its profile has no keys) throws a
/// ``CredentialProviderError`` with code ``CredentialProviderError/Code/notConfigured`` so that a
/// ``CredentialProviderChain`` moves on to the next one. A provider that applies but fails throws any other code,
/// and the chain stops there: a broken configuration is reported, never skipped over.
public protocol CredentialProvider: Sendable {
    /// A short name for messages and logs, for example `environment` or `profile "dev"`.
    var name: String { get }

    /// Returns credentials, fetching or refreshing them as needed.
    func credentials(logger: Logger) async throws -> AWSCredentialIdentity

    /// Drops cached credentials so that the next call fetches new ones; called after a service answers
    /// `ExpiredTokenException`. Providers without a cache do nothing.
    func invalidate()
}

extension CredentialProvider {
    public func invalidate() {}
}
