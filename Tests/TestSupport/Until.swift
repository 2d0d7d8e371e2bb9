import Testing

/// Thrown by ``until(timeout:sourceLocation:_:)`` after it recorded the missed condition.
public struct TimeoutError: Error {}

/// Polls `condition` every few milliseconds until it holds; records an issue and throws ``TimeoutError`` after
/// `timeout`. The way to wait for an event in a test: the default leaves room for a loaded 2-core machine.
public func until(
    timeout: Duration = .seconds(10),
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        if ContinuousClock.now >= deadline {
            Issue.record("condition not met within \(timeout)", sourceLocation: sourceLocation)
            throw TimeoutError()
        }
        try await Task.sleep(for: .milliseconds(2))
    }
}
