import AWSSigning
import AsyncHTTPClient
import Foundation
import Logging
import NIOHTTP1

/// Credentials of the EC2 instance profile, from the instance metadata service (IMDSv2 only: no silent fallback to
/// the token-less v1 protocol).
///
/// `AWS_EC2_METADATA_DISABLED=true` turns it off; `AWS_EC2_METADATA_SERVICE_ENDPOINT` moves it (for tests, or
/// `http://[fd00:ec2::254]` on IPv6-only instances). When no metadata service answers, the provider reports
/// itself as not configured, so a chain ends with a clear "no credentials" error instead of a network error.
/// Credentials that IMDS hands out already expired keep serving for a few more minutes (static stability) rather
/// than failing every request during an IMDS outage.
public struct IMDSCredentialProvider: CredentialProvider {
    public let name = "EC2 instance metadata"
    private let environment: [String: String]
    private let http: CredentialHTTP
    private let timeout: Duration

    /// Configured from the environment; each request waits at most `timeout` (default from
    /// `AWS_METADATA_SERVICE_TIMEOUT`, else 1 s).
    public init(environment: [String: String] = ProcessEnvironment.current, httpClient: HTTPClient, timeout: Duration? = nil) {
        self.environment = environment
        self.http = CredentialHTTP(client: httpClient, provider: "EC2 instance metadata")
        let seconds = environment.nonEmpty("AWS_METADATA_SERVICE_TIMEOUT").flatMap(Double.init) ?? 1
        self.timeout = timeout ?? .milliseconds(Int(seconds * 1000))
    }

    var endpoint: String {
        var base = environment.nonEmpty("AWS_EC2_METADATA_SERVICE_ENDPOINT")
            ?? (environment["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"]?.lowercased() == "ipv6"
                ? "http://[fd00:ec2::254]" : "http://169.254.169.254")
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    struct Answer: Decodable {
        var Code: String?
        var Message: String?
        var AccessKeyId: String?
        var SecretAccessKey: String?
        var Token: String?
        var Expiration: String?
    }

    public func credentials(logger: Logger) async throws -> AWSCredentialIdentity {
        if environment.flag("AWS_EC2_METADATA_DISABLED") {
            throw CredentialProviderError(.notConfigured, provider: name, message: "disabled by AWS_EC2_METADATA_DISABLED")
        }
        let base = endpoint
        let tokenResponse: CredentialHTTP.Response
        do {
            tokenResponse = try await http.send(
                .PUT,
                base + "/latest/api/token",
                headers: [("x-aws-ec2-metadata-token-ttl-seconds", "21600")],
                timeout: timeout
            )
        } catch let error as CredentialProviderError {
            throw CredentialProviderError(
                .notConfigured,
                provider: name,
                message: "no instance metadata service answered at \(base)",
                underlying: error.underlying
            )
        }
        if [403, 404, 405].contains(tokenResponse.status) {
            throw CredentialProviderError(
                .notConfigured,
                provider: name,
                message: "IMDSv2 is not available at \(base) (token request answered HTTP \(tokenResponse.status))"
            )
        }
        guard tokenResponse.status == 200, !tokenResponse.body.isEmpty else {
            throw CredentialProviderError(
                .rejected,
                provider: name,
                message: "IMDSv2 token request to \(base) answered HTTP \(tokenResponse.status)"
            )
        }
        let tokenHeader = [("x-aws-ec2-metadata-token", tokenResponse.body)]
        let rolePath = base + "/latest/meta-data/iam/security-credentials/"
        let roleResponse = try await http.send(.GET, rolePath, headers: tokenHeader, timeout: timeout)
        if roleResponse.status == 404 {
            throw CredentialProviderError(
                .notConfigured,
                provider: name,
                message: "the instance has no IAM role attached (\(rolePath) answered 404)"
            )
        }
        guard roleResponse.status == 200,
            let role = roleResponse.body.split(whereSeparator: \.isNewline).first.map(String.init), !role.isEmpty
        else {
            throw CredentialProviderError(
                .rejected,
                provider: name,
                message: "\(rolePath) answered HTTP \(roleResponse.status) without a role name"
            )
        }
        let credentialsResponse = try await http.send(.GET, rolePath + role, headers: tokenHeader, timeout: timeout)
        guard credentialsResponse.status == 200 else {
            throw CredentialProviderError(
                .rejected,
                provider: name,
                message: "credentials of role \(role) answered HTTP \(credentialsResponse.status)"
            )
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(credentialsResponse.body.utf8)),
            let keyID = answer.AccessKeyId, let secret = answer.SecretAccessKey, let token = answer.Token,
            let expirationText = answer.Expiration, let expiration = ISO8601.parse(expirationText)
        else {
            throw CredentialProviderError(
                .fetchFailed,
                provider: name,
                message: "credentials of role \(role) lack AccessKeyId, SecretAccessKey, Token or Expiration"
            )
        }
        if let code = answer.Code, code != "Success" {
            throw CredentialProviderError(
                .rejected,
                provider: name,
                message: "credentials of role \(role): \(code): \(answer.Message ?? "")"
            )
        }
        var usableUntil = expiration
        let now = Date()
        if expiration <= now.addingTimeInterval(60) {
            usableUntil = now.addingTimeInterval(Double.random(in: 300...600))
            logger.warning(
                "IMDS handed out expired credentials; using them a few more minutes",
                metadata: ["aws.role": "\(role)", "aws.expiration": "\(expiration)"]
            )
        }
        logger.debug("credentials from IMDS", metadata: ["aws.role": "\(role)"])
        return AWSCredentialIdentity(accessKeyID: keyID, secretAccessKey: secret, sessionToken: token, expiration: usableUntil)
    }
}
