import AWSCredentials
import KinesisAPI
import Logging

/// A `KinesisClient` for `url` in us-east-1, shut down after `body` (also when `body` throws).
public func withKinesisClient<T>(
    url: String,
    credentials: any CredentialProvider = StaticCredentialProvider(TestKeys.example),
    http: KinesisClient.Configuration.HTTP = .init(),
    retry: KinesisClient.Configuration.Retry = .init(),
    logger: Logger = Logger(label: "test"),
    configure: (inout KinesisClient.Configuration) -> Void = { _ in },
    _ body: (KinesisClient) async throws -> T
) async throws -> T {
    var configuration = try KinesisClient.Configuration(region: "us-east-1", endpoint: KinesisEndpoint(url: url), http: http, retry: retry)
    configure(&configuration)
    let client = KinesisClient(configuration: configuration, credentialProvider: credentials, logger: logger)
    return try await withCleanup {
        try await body(client)
    } cleanup: {
        try await client.shutdown()
    }
}
