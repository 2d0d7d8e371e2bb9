import KinesisLocal

/// Starts a KinesisLocal, runs `body`, stops the server (also when `body` throws), with its faults cleared first.
public func withServer<T>(_ configuration: KinesisLocal.Configuration = .init(), _ body: (KinesisLocal) async throws -> T) async throws -> T {
    let server = try await KinesisLocal.start(configuration)
    return try await withCleanup {
        try await body(server)
    } cleanup: {
        server.setFaults(.init())  // no added latency holding the shutdown
        try await server.stop()
    }
}
