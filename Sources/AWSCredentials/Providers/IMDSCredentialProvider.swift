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
    private let attempts: Int
    /// Why `AWS_METADATA_SERVICE_TIMEOUT` cannot be used, reported by every fetch.
    private let invalidTimeout: String?

    /// Configured from the environment; each request waits at most `timeout` (default from
    /// `AWS_METADATA_SERVICE_TIMEOUT`, else 1 s), and the role and credential requests are tried `attempts` times
    /// (default from `AWS_METADATA_SERVICE_NUM_ATTEMPTS`, else 3).
    public init(
        environment: [String: String] = ProcessEnvironment.current,
        httpClient: HTTPClient,
        timeout: Duration? = nil,
        attempts: Int? = nil
    ) {
        self.environment = environment
        self.http = CredentialHTTP(client: httpClient, provider: "EC2 instance metadata")
        let text = environment.nonEmpty("AWS_METADATA_SERVICE_TIMEOUT")
        let seconds = text.flatMap(Double.init)
        if let text, timeout == nil, seconds.map({ !$0.isFinite || $0 <= 0 || $0 > 3600 }) ?? true {
            invalidTimeout = "AWS_METADATA_SERVICE_TIMEOUT '\(text)' is not a number of seconds between 0 and 3600"
        } else {
            invalidTimeout = nil
        }
        self.timeout = timeout ?? (invalidTimeout == nil ? .milliseconds(Int((seconds ?? 1) * 1000)) : .seconds(1))
        let configuredAttempts = environment.nonEmpty("AWS_METADATA_SERVICE_NUM_ATTEMPTS").flatMap(Int.init)
        self.attempts = min(10, max(1, attempts ?? configuredAttempts ?? 3))
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
        if let invalidTimeout {
            throw CredentialProviderError(.invalidConfiguration, provider: name, message: invalidTimeout)
        }
        let base = endpoint
        let tokenResponse: CredentialHTTP.Response
        do {
            // An HTTP 5xx is tried again; no answer at all means there is no metadata service here.
            tokenResponse = try await http.fetch(
                .PUT,
                base + "/latest/api/token",
                headers: [("x-aws-ec2-metadata-token-ttl-seconds", "21600")],
                timeout: timeout,
                attempts: attempts,
                logger: logger
            ) { response in
                if response.status >= 500 { throw Self.serverError(response, asking: "a token from \(base)") }
                return response
            }
        } catch let error as CredentialProviderError where error.underlying != nil {
            // On a machine without instance metadata the chain moves on; an endpoint the user set must answer.
            let explicit = environment.nonEmpty("AWS_EC2_METADATA_SERVICE_ENDPOINT") != nil
            throw CredentialProviderError(
                explicit ? .fetchFailed : .notConfigured,
                provider: name,
                message: "no instance metadata service answered at \(base)"
                    + (explicit ? " (AWS_EC2_METADATA_SERVICE_ENDPOINT)" : ""),
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
        let roleResponse = try await http.fetch(.GET, rolePath, headers: tokenHeader, timeout: timeout, attempts: attempts, logger: logger) {
            if $0.status >= 500 { throw Self.serverError($0, asking: rolePath) }
            return $0
        }
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
        let credentialsResponse = try await http.fetch(
            .GET, rolePath + role, headers: tokenHeader, timeout: timeout, attempts: attempts, logger: logger
        ) {
            if $0.status >= 500 { throw Self.serverError($0, asking: "the credentials of role \(role)") }
            return $0
        }
        guard credentialsResponse.status == 200 else {
            throw CredentialProviderError(
                .rejected,
                provider: name,
                message: "credentials of role \(role) answered HTTP \(credentialsResponse.status)"
            )
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(credentialsResponse.body.utf8)),
            let keyID = answer.AccessKeyId, let secret = answer.SecretAccessKey, let token = answer.Token,
            let expiration = try ISO8601.expiration(
                answer.Expiration, source: "the Expiration of role \(role)", provider: name, code: .fetchFailed
            )
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
        // Static stability, as the AWS SDKs do it: IMDS renews credentials well before they expire, so ones that
        // are expired or expire within minutes mean it cannot renew them now. Keep using them (Kinesis decides) and
        // ask again in a few minutes, instead of failing every request while IMDS is down.
        var usableUntil = expiration
        let now = Date()
        if expiration <= now.addingTimeInterval(Self.staleWithin) {
            usableUntil = now.addingTimeInterval(Double.random(in: 300...600))
            logger.warning(
                "IMDS handed out credentials that are expired or about to expire; using them a few more minutes",
                metadata: ["aws.role": "\(role)", "aws.expiration": "\(expiration)"]
            )
        }
        logger.debug("credentials from IMDS", metadata: ["aws.role": "\(role)"])
        return AWSCredentialIdentity(accessKeyID: keyID, secretAccessKey: secret, sessionToken: token, expiration: usableUntil)
    }

    /// Credentials from IMDS that expire sooner than this are stale: IMDS offers new ones at least five minutes
    /// before the old ones expire.
    static let staleWithin: TimeInterval = 4 * 60

    private static func serverError(_ response: CredentialHTTP.Response, asking what: String) -> CredentialProviderError {
        CredentialProviderError(
            .fetchFailed,
            provider: "EC2 instance metadata",
            message: "instance metadata answered HTTP \(response.status) asking for \(what)"
        )
    }
}
