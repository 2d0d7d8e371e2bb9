import AsyncHTTPClient
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
}
