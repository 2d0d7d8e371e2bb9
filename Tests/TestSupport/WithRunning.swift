import KinesisPusher

/// Runs `runner.run()` beside `body`; then shuts the runner down and returns `body`'s value and how `run()` ended.
public func withRunning<T>(
    _ runner: Runner,
    _ body: () async throws -> T
) async throws -> (value: T, run: Result<Void, any Error>) {
    let task = Task { try await runner.run() }
    let value: T
    do {
        value = try await body()
    } catch {
        await runner.shutdown()
        _ = await task.result
        throw error
    }
    await runner.shutdown()
    return (value, await task.result)
}
