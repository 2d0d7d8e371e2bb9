import AWSSigning
import AsyncHTTPClient
import Backoff
import Foundation
import Logging
import NIOHTTP1

/// Credentials from the container credentials endpoint (ECS task roles, EKS Pod Identity).
///
/// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` wins and is resolved against `http://169.254.170.2`; otherwise
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` is used when it is https or points at a loopback or the ECS/EKS link-local
/// host. The `Authorization` header comes from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (re-read on every fetch) or
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
public struct ContainerCredentialProvider: CredentialProvider {
    public let name = "container"
    private let environment: [String: String]
    private let http: CredentialHTTP
    private let timeout: Duration
    private let attempts: Int

    /// Configured from the environment; each attempt waits at most `timeout`, and transient failures are tried
    /// `attempts` times.
    public init(
        environment: [String: String] = ProcessEnvironment.current,
        httpClient: HTTPClient,
        timeout: Duration = .seconds(2),
        attempts: Int = 3
    ) {
        self.environment = environment
        self.http = CredentialHTTP(client: httpClient, provider: "container")
        self.timeout = timeout
        self.attempts = max(1, attempts)
    }

    struct Answer: Decodable {
        var AccessKeyId: String?
        var SecretAccessKey: String?
        var Token: String?
        var Expiration: String?
        var code: String?
        var message: String?
    }

    /// Whether credentials may come from `host` over plain http: a loopback address (parsed as an address, so
    /// `127.evil.example` is not one), `localhost`, or the ECS / EKS Pod Identity link-local endpoints.
    static func isAllowedOverHTTP(_ host: String) -> Bool {
        let address = HostAddress(host)
        if address.isLoopback { return true }
        switch address {
        case .ipv4(let v4): return v4 == 0xA9FE_AA02 || v4 == 0xA9FE_AA17  // 169.254.170.2, .23
        case .ipv6(let v6): return v6 == [0xFD, 0x00, 0x0E, 0xC2] + Array(repeating: 0, count: 11) + [0x23]  // fd00:ec2::23
        case .name: return false
        }
    }

    public func credentials(logger: Logger) async throws -> AWSCredentialIdentity {
        let url = try endpointURL()
        var headers = [("Accept", "application/json")]
        if let authorization = try authorizationToken() {
            headers.append(("Authorization", authorization))
        }
        return try await http.fetch(.GET, url, headers: headers, timeout: timeout, attempts: attempts, logger: logger) {
            try parse($0, url: url)
        }
    }

    private func parse(_ response: CredentialHTTP.Response, url: String) throws -> AWSCredentialIdentity {
        let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body.utf8))
        guard response.status == 200 else {
            let detail = answer.flatMap { a in a.code.map { "\($0): \(a.message ?? "")" } } ?? String(response.body.prefix(200))
            throw CredentialProviderError(
                response.status >= 500 ? .fetchFailed : .rejected,
                provider: name,
                message: "\(url) answered HTTP \(response.status): \(detail)"
            )
        }
        guard let answer, let keyID = answer.AccessKeyId, let secret = answer.SecretAccessKey else {
            throw CredentialProviderError(
                .fetchFailed,
                provider: name,
                message: "\(url) answered without AccessKeyId and SecretAccessKey"
            )
        }
        return AWSCredentialIdentity(
            accessKeyID: keyID,
            secretAccessKey: secret,
            sessionToken: answer.Token,
            expiration: try ISO8601.expiration(answer.Expiration, source: "the Expiration from \(url)", provider: name, code: .fetchFailed)
        )
    }

    private func endpointURL() throws -> String {
        if let relative = environment.nonEmpty("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            return "http://169.254.170.2" + (relative.hasPrefix("/") ? relative : "/" + relative)
        }
        guard let full = environment.nonEmpty("AWS_CONTAINER_CREDENTIALS_FULL_URI") else {
            throw CredentialProviderError(
                .notConfigured,
                provider: name,
                message: "neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI is set"
            )
        }
        guard let components = URLComponents(string: full), let scheme = components.scheme?.lowercased(),
            let host = components.host?.lowercased()
        else {
            throw CredentialProviderError(
                .invalidConfiguration,
                provider: name,
                message: "AWS_CONTAINER_CREDENTIALS_FULL_URI '\(full)' is not a URL"
            )
        }
        let bareHost = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let allowed = scheme == "https" || Self.isAllowedOverHTTP(bareHost)
        guard allowed else {
            throw CredentialProviderError(
                .invalidConfiguration,
                provider: name,
                message: "AWS_CONTAINER_CREDENTIALS_FULL_URI host \(host) is not allowed over http "
                    + "(use https, a loopback address, 169.254.170.2 or 169.254.170.23)"
            )
        }
        return full
    }

    private func authorizationToken() throws -> String? {
        var token: String?
        if let file = environment.nonEmpty("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
            do {
                token = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                throw CredentialProviderError(
                    .invalidConfiguration,
                    provider: name,
                    message: "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(file): \(error.localizedDescription)",
                    underlying: error
                )
            }
        } else {
            token = environment.nonEmpty("AWS_CONTAINER_AUTHORIZATION_TOKEN")
        }
        if let token, token.contains("\r") || token.contains("\n") {
            throw CredentialProviderError(
                .invalidConfiguration,
                provider: name,
                message: "the container authorization token contains a line break"
            )
        }
        return token
    }
}
