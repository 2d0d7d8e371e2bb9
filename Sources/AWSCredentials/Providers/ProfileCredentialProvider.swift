import AWSSigning
import AsyncHTTPClient
import Foundation
import Logging

/// Credentials from a profile of the shared config and credentials files.
///
/// In the order the SDKs use: `role_arn` with `web_identity_token_file` (web identity), `role_arn` with
/// `source_profile` (the source's credentials, then STS `AssumeRole`; chains may nest, cycles are reported) or with
/// `credential_source` (`Environment`, `Ec2InstanceMetadata`, `EcsContainer`); static keys
/// (`aws_access_key_id`, `aws_secret_access_key`, `aws_session_token`); `credential_process`.
public struct ProfileCredentialProvider: CredentialProvider {
    public let name: String
    private let profileName: String
    private let explicitlySelected: Bool
    private let environment: [String: String]
    private let httpClient: HTTPClient
    private let sharedConfiguration: AWSSharedConfiguration?

    /// - Parameters:
    ///   - profile: The profile to use; `nil` means `AWS_PROFILE`, else `default`.
    ///   - environment: Where `AWS_PROFILE`, `AWS_CONFIG_FILE` and friends are read.
    ///   - sharedConfiguration: Parsed files to use instead of reading them (for tests); read on every fetch when
    ///     `nil`, so edited files take effect at the next refresh.
    public init(
        profile: String? = nil,
        environment: [String: String] = ProcessEnvironment.current,
        httpClient: HTTPClient,
        sharedConfiguration: AWSSharedConfiguration? = nil
    ) {
        let selected = profile ?? environment.nonEmpty("AWS_PROFILE") ?? environment.nonEmpty("AWS_DEFAULT_PROFILE")
        self.profileName = selected ?? "default"
        self.explicitlySelected = selected != nil
        self.name = "profile \"\(selected ?? "default")\""
        self.environment = environment
        self.httpClient = httpClient
        self.sharedConfiguration = sharedConfiguration
    }

    public func credentials(logger: Logger) async throws -> AWSCredentialIdentity {
        let configuration = try sharedConfiguration ?? AWSSharedConfiguration.load(environment: environment)
        guard configuration.profiles[profileName] != nil else {
            let paths = AWSSharedConfiguration.filePaths(environment: environment)
            throw CredentialProviderError(
                explicitlySelected ? .invalidConfiguration : .notConfigured,
                provider: name,
                message: "no profile \"\(profileName)\" in \(paths.config) or \(paths.credentials)"
            )
        }
        return try await resolve(profileName, in: configuration, visited: [], logger: logger)
    }

    private func resolve(
        _ profileName: String,
        in configuration: AWSSharedConfiguration,
        visited: [String],
        logger: Logger
    ) async throws -> AWSCredentialIdentity {
        guard let profile = configuration.profiles[profileName] else {
            throw CredentialProviderError(
                .invalidConfiguration,
                provider: name,
                message: "source_profile \"\(profileName)\" (reached from \(visited.map { "\"\($0)\"" }.joined(separator: " → "))) does not exist"
            )
        }
        let region = profile["region"] ?? AWSRegionResolver.regionFromEnvironment(environment)
            ?? configuration.profiles[self.profileName]?["region"]

        if let roleARN = profile["role_arn"] {
            if let tokenFile = profile["web_identity_token_file"] {
                return try await WebIdentityCredentialProvider(
                    name: name,
                    tokenFile: tokenFile,
                    roleARN: roleARN,
                    sessionName: profile["role_session_name"],
                    environment: environment,
                    region: region,
                    httpClient: httpClient
                ).credentials(logger: logger)
            }
            let source = try await sourceCredentials(
                of: profileName,
                profile: profile,
                in: configuration,
                visited: visited,
                logger: logger
            )
            let endpoint = STSClient.endpoint(environment: environment, region: region)
            let sts = STSClient(
                http: CredentialHTTP(client: httpClient, provider: name),
                endpoint: endpoint.url,
                region: endpoint.signingRegion
            )
            return try await sts.assumeRole(
                roleARN: roleARN,
                sessionName: profile["role_session_name"] ?? STSClient.defaultSessionName(prefix: "kinesis-pusher"),
                externalID: profile["external_id"],
                durationSeconds: profile["duration_seconds"].flatMap(Int.init),
                sourceCredentials: source,
                logger: logger
            )
        }
        if let identity = try staticKeys(of: profileName, profile: profile) {
            return identity
        }
        if let command = profile["credential_process"] {
            return try await ProcessCredentialProvider(commandLine: command, name: "\(name) credential_process")
                .credentials(logger: logger)
        }
        if profile["sso_session"] != nil || profile["sso_start_url"] != nil {
            throw CredentialProviderError(
                .invalidConfiguration,
                provider: name,
                message: "profile \"\(profileName)\" uses AWS IAM Identity Center (SSO), which is not supported; "
                    + "use credential_process with `aws configure export-credentials --format process`"
            )
        }
        throw CredentialProviderError(
            visited.isEmpty && !explicitlySelected ? .notConfigured : .invalidConfiguration,
            provider: name,
            message: "profile \"\(profileName)\" has no credentials (no aws_access_key_id, role_arn or credential_process)"
        )
    }

    private func sourceCredentials(
        of profileName: String,
        profile: AWSSharedConfiguration.Profile,
        in configuration: AWSSharedConfiguration,
        visited: [String],
        logger: Logger
    ) async throws -> AWSCredentialIdentity {
        if let sourceName = profile["source_profile"] {
            let path = visited + [profileName]
            // A profile may name itself as source when it also holds static keys (botocore allows this).
            if sourceName == profileName, let identity = try staticKeys(of: profileName, profile: profile) {
                return identity
            }
            if path.contains(sourceName) {
                throw CredentialProviderError(
                    .invalidConfiguration,
                    provider: name,
                    message: "source_profile cycle: \((path + [sourceName]).map { "\"\($0)\"" }.joined(separator: " → "))"
                )
            }
            return try await resolve(sourceName, in: configuration, visited: path, logger: logger)
        }
        guard let source = profile["credential_source"] else {
            throw CredentialProviderError(
                .invalidConfiguration,
                provider: name,
                message: "profile \"\(profileName)\" has role_arn but neither source_profile, credential_source "
                    + "nor web_identity_token_file"
            )
        }
        switch source {
        case "Environment":
            return try await EnvironmentCredentialProvider(environment: environment).credentials(logger: logger)
        case "Ec2InstanceMetadata":
            return try await IMDSCredentialProvider(environment: environment, httpClient: httpClient).credentials(logger: logger)
        case "EcsContainer":
            return try await ContainerCredentialProvider(environment: environment, httpClient: httpClient)
                .credentials(logger: logger)
        default:
            throw CredentialProviderError(
                .invalidConfiguration,
                provider: name,
                message: "credential_source \"\(source)\" is not one of Environment, Ec2InstanceMetadata, EcsContainer"
            )
        }
    }

    private func staticKeys(of profileName: String, profile: AWSSharedConfiguration.Profile) throws -> AWSCredentialIdentity? {
        let keyID = profile["aws_access_key_id"].flatMap { $0.isEmpty ? nil : $0 }
        let secret = profile["aws_secret_access_key"].flatMap { $0.isEmpty ? nil : $0 }
        switch (keyID, secret) {
        case (nil, nil):
            return nil
        case (.some(let keyID), .some(let secret)):
            return AWSCredentialIdentity(
                accessKeyID: keyID,
                secretAccessKey: secret,
                sessionToken: profile["aws_session_token"] ?? profile["aws_security_token"]
            )
        default:
            throw CredentialProviderError(
                .invalidConfiguration,
                provider: name,
                message: "profile \"\(profileName)\" sets only one of aws_access_key_id and aws_secret_access_key"
            )
        }
    }
}
