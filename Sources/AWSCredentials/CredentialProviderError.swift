/// Why a credential provider gave no credentials.
///
/// The message names the provider and the cause (which variable, file, profile or endpoint); it never contains
/// a secret.
public struct CredentialProviderError: Error, Sendable, CustomStringConvertible {
    /// A kind of credential failure; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Backing: Hashable, Sendable {
            case notConfigured, invalidConfiguration, fetchFailed, rejected, noCredentials
        }
        private let backing: Backing
        private init(_ backing: Backing) { self.backing = backing }

        /// The provider does not apply here; a chain tries the next one.
        public static let notConfigured = Code(.notConfigured)
        /// The provider applies but its settings are wrong (missing key, bad file, cycle of profiles).
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// Fetching credentials failed (network, timeout, unreadable answer); may succeed later.
        public static let fetchFailed = Code(.fetchFailed)
        /// The credential source answered with a refusal (STS error, HTTP 4xx, non-zero process exit).
        public static let rejected = Code(.rejected)
        /// A chain tried every provider and none gave credentials.
        public static let noCredentials = Code(.noCredentials)

        public var description: String {
            switch backing {
            case .notConfigured: "notConfigured"
            case .invalidConfiguration: "invalidConfiguration"
            case .fetchFailed: "fetchFailed"
            case .rejected: "rejected"
            case .noCredentials: "noCredentials"
            }
        }
    }

    /// What went wrong.
    public var code: Code
    /// The provider that failed, for example `web identity` or `profile "dev"`.
    public var provider: String
    /// A human-readable cause.
    public var message: String
    /// The error underneath, if any (a transport error, a decoding error).
    public var underlying: (any Error)?

    /// Creates an error.
    public init(_ code: Code, provider: String, message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.provider = provider
        self.message = message
        self.underlying = underlying
    }

    /// Whether the source may answer later (timeout, refused connection, HTTP 5xx, malformed answer): a caller
    /// waits and retries instead of giving up, as it would on a configuration error or a refusal.
    public var isTransient: Bool { code == .fetchFailed }

    public var description: String {
        "\(provider): \(message)"
    }
}
