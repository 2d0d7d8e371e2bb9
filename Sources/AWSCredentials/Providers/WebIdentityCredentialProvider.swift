import AWSSigning
import AsyncHTTPClient
import Foundation
import Logging

/// Credentials from STS `AssumeRoleWithWebIdentity`, as on EKS (IRSA) and other OIDC set-ups.
///
/// The token file is read again on every fetch, because the platform rotates it. Configured from the environment
/// (`AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN`, optional `AWS_ROLE_SESSION_NAME`) or from a profile's
/// `web_identity_token_file` and `role_arn`.
public struct WebIdentityCredentialProvider: CredentialProvider {
    public let name: String
    private let tokenFile: String?
    private let roleARN: String?
    private let sessionName: String?
    private let sts: STSClient

    /// Configured from `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN` and `AWS_ROLE_SESSION_NAME`.
    public init(environment: [String: String] = ProcessEnvironment.current, httpClient: HTTPClient) {
        self.init(
            name: "web identity (environment)",
            tokenFile: environment.nonEmpty("AWS_WEB_IDENTITY_TOKEN_FILE"),
            roleARN: environment.nonEmpty("AWS_ROLE_ARN"),
            sessionName: environment.nonEmpty("AWS_ROLE_SESSION_NAME"),
            environment: environment,
            region: AWSRegionResolver.regionFromEnvironment(environment),
            httpClient: httpClient
        )
    }

    /// Configured explicitly; `region` picks the STS endpoint unless `AWS_ENDPOINT_URL_STS` overrides it.
    public init(
        name: String = "web identity",
        tokenFile: String?,
        roleARN: String?,
        sessionName: String?,
        environment: [String: String] = ProcessEnvironment.current,
        region: String?,
        httpClient: HTTPClient
    ) {
        self.name = name
        self.tokenFile = tokenFile
        self.roleARN = roleARN
        self.sessionName = sessionName
        let endpoint = STSClient.endpoint(environment: environment, region: region)
        self.sts = STSClient(
            http: CredentialHTTP(client: httpClient, provider: name),
            endpoint: endpoint.url,
            region: endpoint.signingRegion
        )
    }

    public func credentials(logger: Logger) async throws -> AWSCredentialIdentity {
        guard let tokenFile else {
            throw CredentialProviderError(.notConfigured, provider: name, message: "AWS_WEB_IDENTITY_TOKEN_FILE is not set")
        }
        guard let roleARN else {
            throw CredentialProviderError(
                .invalidConfiguration,
                provider: name,
                message: "a web identity token file is set (\(tokenFile)) but no role ARN (AWS_ROLE_ARN)"
            )
        }
        let token: String
        do {
            token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw CredentialProviderError(
                .invalidConfiguration,
                provider: name,
                message: "cannot read the web identity token file \(tokenFile): \(error.localizedDescription)",
                underlying: error
            )
        }
        guard !token.isEmpty else {
            throw CredentialProviderError(
                .invalidConfiguration,
                provider: name,
                message: "the web identity token file \(tokenFile) is empty"
            )
        }
        return try await sts.assumeRoleWithWebIdentity(
            roleARN: roleARN,
            sessionName: sessionName ?? STSClient.defaultSessionName(prefix: "kinesis-pusher"),
            token: token,
            logger: logger
        )
    }
}
