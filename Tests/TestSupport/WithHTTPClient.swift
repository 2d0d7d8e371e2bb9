import AsyncHTTPClient

/// Runs `body` with an HTTP client of its own, shut down afterwards (also when `body` throws).
@discardableResult
public func withHTTPClient<T>(_ body: (HTTPClient) async throws -> T) async throws -> T {
    let client = HTTPClient(eventLoopGroupProvider: .singleton)
    return try await withCleanup {
        try await body(client)
    } cleanup: {
        try await client.shutdown()
    }
}
