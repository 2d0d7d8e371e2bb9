import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1

/// The small HTTP exchanges credential sources need (IMDS, container endpoint, STS), over an injected client.
struct CredentialHTTP: Sendable {
    struct Response {
        var status: Int
        var body: String
    }

    let client: HTTPClient
    let provider: String

    /// Sends one request; a transport failure or timeout becomes a `fetchFailed` error naming `url`.
    func send(
        _ method: HTTPMethod,
        _ url: String,
        headers: [(String, String)] = [],
        body: [UInt8]? = nil,
        timeout: Duration
    ) async throws -> Response {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            let response = try await client.execute(request, timeout: TimeAmount(timeout))
            let buffer = try await response.body.collect(upTo: 1 << 20)
            return Response(status: Int(response.status.code), body: String(buffer: buffer))
        } catch {
            throw CredentialProviderError(
                .fetchFailed,
                provider: provider,
                message: "\(method.rawValue) \(url) failed: \(error)",
                underlying: error
            )
        }
    }

    /// Sends a request and reads its answer with `read`, up to `attempts` times: a transient failure of either (no
    /// connection, timeout, and whatever `read` reports as `fetchFailed`: HTTP 5xx, a malformed answer) is tried
    /// again after 100 ms, 200 ms, …, as the AWS SDKs do for instance metadata and the container endpoint, so a
    /// passing blip never reaches the caller.
    func fetch<Value>(
        _ method: HTTPMethod,
        _ url: String,
        headers: [(String, String)] = [],
        timeout: Duration,
        attempts: Int,
        logger: Logger,
        read: (Response) throws -> Value
    ) async throws -> Value {
        var attempt = 1
        while true {
            do {
                return try read(try await send(method, url, headers: headers, timeout: timeout))
            } catch let error as CredentialProviderError where error.isTransient && attempt < attempts {
                logger.debug(
                    "credential source failed; trying again",
                    metadata: ["aws.credentials.provider": "\(provider)", "aws.attempt": "\(attempt)", "error": "\(error)"]
                )
                try await Task.sleep(for: .milliseconds(100 * attempt))
                attempt += 1
            }
        }
    }
}
