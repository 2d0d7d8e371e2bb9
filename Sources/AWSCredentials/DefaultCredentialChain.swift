import AWSSigning
import AsyncHTTPClient
import Logging

/// The standard credential chain, cached.
///
/// Order: static credentials (when given) → environment → web identity from the environment → the shared-file
/// profile → container endpoint → EC2 instance metadata. Naming a profile explicitly (`profile:` or
/// `AWS_PROFILE`) makes a missing profile an error instead of a skip.
public enum DefaultCredentialChain {
    /// Builds the chain, cached.
    ///
    /// - Parameters:
    ///   - staticCredentials: Credentials given in code or on the command line; used first.
    ///   - profile: The profile to read; `nil` means `AWS_PROFILE`, else `default`.
    ///   - environment: The environment variables to read (the process's by default).
    ///   - httpClient: For STS, the container endpoint and IMDS.
    ///   - logger: Where refresh failures and the winning provider are logged.
    public static func make(
        staticCredentials: AWSCredentialIdentity? = nil,
        profile: String? = nil,
        environment: [String: String] = ProcessEnvironment.current,
        httpClient: HTTPClient,
        logger: Logger
    ) -> CachingCredentialProvider {
        let providers = providers(staticCredentials: staticCredentials, profile: profile, environment: environment, httpClient: httpClient)
        return CachingCredentialProvider(CredentialProviderChain(providers), logger: logger)
    }

    /// The chain's providers in order, for a caller that wraps the chain before caching it.
    public static func providers(
        staticCredentials: AWSCredentialIdentity? = nil,
        profile: String? = nil,
        environment: [String: String] = ProcessEnvironment.current,
        httpClient: HTTPClient
    ) -> [any CredentialProvider] {
        var providers: [any CredentialProvider] = []
        if let staticCredentials { providers.append(StaticCredentialProvider(staticCredentials)) }
        // An explicit profile means the user chose it: environment keys must not silently win over it.
        if profile == nil {
            providers.append(EnvironmentCredentialProvider(environment: environment))
            providers.append(WebIdentityCredentialProvider(environment: environment, httpClient: httpClient))
        }
        providers.append(ProfileCredentialProvider(profile: profile, environment: environment, httpClient: httpClient))
        providers.append(ContainerCredentialProvider(environment: environment, httpClient: httpClient))
        providers.append(IMDSCredentialProvider(environment: environment, httpClient: httpClient))
        return providers
    }
}
