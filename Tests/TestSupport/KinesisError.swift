import KinesisAPI
import Testing

/// Runs `body` and returns the `KinesisError` it throws; records a failure when it throws something else or nothing.
public func kinesisError(
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async -> KinesisError? {
    do {
        try await body()
        Issue.record("expected a KinesisError, but the call succeeded", sourceLocation: sourceLocation)
        return nil
    } catch let error as KinesisError {
        return error
    } catch {
        Issue.record("expected a KinesisError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
