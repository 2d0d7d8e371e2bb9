import AWSSigning
import AsyncHTTPClient
import Foundation
import Logging
import NIOHTTP1

/// The two STS calls the credential chain makes: `AssumeRole` (signed with source credentials) and
/// `AssumeRoleWithWebIdentity` (unsigned). Query protocol, XML answers.
struct STSClient: Sendable {
    let http: CredentialHTTP
    let endpoint: String
    let region: String
    var timeout: Duration = .seconds(10)

    /// The STS endpoint in force: `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, the regional host, or the global one.
    static func endpoint(environment: [String: String], region: String?) -> (url: String, signingRegion: String) {
        let signingRegion = region ?? "us-east-1"
        if let url = environment.nonEmpty("AWS_ENDPOINT_URL_STS") ?? environment.nonEmpty("AWS_ENDPOINT_URL") {
            return (url, signingRegion)
        }
        guard let region else { return ("https://sts.amazonaws.com", signingRegion) }
        if region.hasPrefix("cn-") { return ("https://sts.\(region).amazonaws.com.cn", region) }
        return ("https://sts.\(region).amazonaws.com", region)
    }

    func assumeRole(
        roleARN: String,
        sessionName: String,
        externalID: String?,
        durationSeconds: Int?,
        sourceCredentials: AWSCredentialIdentity,
        logger: Logger
    ) async throws -> AWSCredentialIdentity {
        var parameters = [
            ("Action", "AssumeRole"), ("Version", "2011-06-15"), ("RoleArn", roleARN), ("RoleSessionName", sessionName),
        ]
        if let externalID { parameters.append(("ExternalId", externalID)) }
        if let durationSeconds { parameters.append(("DurationSeconds", String(durationSeconds))) }
        let body = Array(Self.formEncode(parameters).utf8)

        let host = Self.hostHeader(of: endpoint)
        var headers = [("Host", host), ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")]
        let signature = SigV4Signer(service: "sts", region: region).sign(
            method: "POST",
            headers: headers.map { (name: $0.0, value: $0.1) },
            payloadHash: SigV4Signer.payloadHash(body),
            credentials: sourceCredentials,
            date: Date()
        )
        headers += signature.headersToAdd.map { ($0.name, $0.value) }
        logger.debug("STS AssumeRole", metadata: ["aws.role_arn": "\(roleARN)", "aws.sts.endpoint": "\(endpoint)"])
        let response = try await http.send(.POST, endpoint, headers: headers, body: body, timeout: timeout)
        return try Self.credentials(from: response, action: "AssumeRole", role: roleARN, provider: http.provider)
    }

    func assumeRoleWithWebIdentity(
        roleARN: String,
        sessionName: String,
        token: String,
        logger: Logger
    ) async throws -> AWSCredentialIdentity {
        let body = Array(
            Self.formEncode([
                ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleARN),
                ("RoleSessionName", sessionName), ("WebIdentityToken", token),
            ]).utf8
        )
        logger.debug(
            "STS AssumeRoleWithWebIdentity",
            metadata: ["aws.role_arn": "\(roleARN)", "aws.sts.endpoint": "\(endpoint)"]
        )
        let response = try await http.send(
            .POST,
            endpoint,
            headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            body: body,
            timeout: timeout
        )
        return try Self.credentials(
            from: response,
            action: "AssumeRoleWithWebIdentity",
            role: roleARN,
            provider: http.provider
        )
    }

    static func credentials(
        from response: CredentialHTTP.Response,
        action: String,
        role: String,
        provider: String
    ) throws -> AWSCredentialIdentity {
        guard response.status == 200 else {
            let code = XMLFields.value("Code", in: response.body) ?? "HTTP \(response.status)"
            let message = XMLFields.value("Message", in: response.body) ?? String(response.body.prefix(200))
            let retryable = response.status >= 500 || code == "IDPCommunicationError" || code == "Throttling"
            throw CredentialProviderError(
                retryable ? .fetchFailed : .rejected,
                provider: provider,
                message: "STS \(action) for \(role) failed: \(code): \(message)"
            )
        }
        guard let keyID = XMLFields.value("AccessKeyId", in: response.body),
            let secret = XMLFields.value("SecretAccessKey", in: response.body),
            let token = XMLFields.value("SessionToken", in: response.body)
        else {
            throw CredentialProviderError(
                .fetchFailed,
                provider: provider,
                message: "STS \(action) for \(role) answered without AccessKeyId, SecretAccessKey and SessionToken"
            )
        }
        let expiration = try ISO8601.expiration(
            XMLFields.value("Expiration", in: response.body),
            source: "the Expiration in the STS \(action) answer",
            provider: provider,
            code: .fetchFailed
        )
        return AWSCredentialIdentity(
            accessKeyID: keyID,
            secretAccessKey: secret,
            sessionToken: token,
            expiration: expiration
        )
    }

    static func formEncode(_ parameters: [(String, String)]) -> String {
        parameters.map { SigV4Signer.uriEncode($0.0) + "=" + SigV4Signer.uriEncode($0.1) }.joined(separator: "&")
    }

    /// The `Host` header for a URL: host, plus `:port` only when the port is not the scheme's default.
    static func hostHeader(of url: String) -> String {
        guard let components = URLComponents(string: url), let host = components.host else { return url }
        let bracketed = host.contains(":") ? "[\(host)]" : host
        guard let port = components.port else { return bracketed }
        let defaultPort = components.scheme == "http" ? 80 : 443
        return port == defaultPort ? bracketed : "\(bracketed):\(port)"
    }

    static func defaultSessionName(prefix: String) -> String {
        "\(prefix)-\(Int(Date().timeIntervalSince1970))"
    }
}
