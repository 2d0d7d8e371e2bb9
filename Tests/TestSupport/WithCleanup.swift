/// Runs `body`, then `cleanup` whether or not `body` threw; returns `body`'s value or rethrows its error
/// (an error from `cleanup` wins).
public func withCleanup<T>(_ body: () async throws -> T, cleanup: () async throws -> Void) async throws -> T {
    let result: Result<T, any Error>
    do {
        result = .success(try await body())
    } catch {
        result = .failure(error)
    }
    try await cleanup()
    return try result.get()
}
