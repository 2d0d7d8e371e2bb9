import AWSSigning
import AWSCredentials
import CoreMetrics
import KinesisLocal
import KinesisPusher

/// A runner for stream `stream` of `server`, with explicit credentials, quick retries and the test seed for its
/// jitter (tests change the rest); with a metrics `factory`, configured with metrics on.
public func makeRunner(
    _ server: KinesisLocal,
    stream: String = "s",
    credentials: AWSCredentialIdentity = TestKeys.test,
    factory: (any MetricsFactory)? = nil,
    perShard: Bool = false,
    _ change: (inout RunnerConfiguration) -> Void = { _ in }
) throws -> Runner {
    try makeRunner(endpoint: server.endpoint, stream: stream, credentials: credentials, factory: factory, perShard: perShard, change)
}

/// ``makeRunner(_:stream:credentials:factory:perShard:_:)`` for any endpoint (a fake Kinesis).
public func makeRunner(
    endpoint: String,
    stream: String = "s",
    credentials: AWSCredentialIdentity = TestKeys.test,
    factory: (any MetricsFactory)? = nil,
    perShard: Bool = false,
    _ change: (inout RunnerConfiguration) -> Void = { _ in }
) throws -> Runner {
    var configuration = RunnerConfiguration(buffer: .init(size: 1000), concurrency: .init(maxConcurrentPuts: 4))
    configuration.retry.baseDelay = .milliseconds(20)
    configuration.retry.maxDelay = .milliseconds(200)
    configuration.retry.jitterSeed = TestSeed.value
    change(&configuration)
    var runner = Runner(configuration: configuration).withCredentialProvider(StaticCredentialProvider(credentials))
    let aws = AWSConfig(region: "us-east-1", profile: nil, streamName: stream, endpoint: endpoint)
    if let factory {
        runner = runner.withMetricsFactory(factory, perShard: perShard)
        try runner.configureWithMetrics(aws)
    } else {
        try runner.configure(aws)
    }
    return runner
}
