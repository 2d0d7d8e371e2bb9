import AWSCredentials
import AWSSigning
import KinesisAPI
import KinesisLocal
import KinesisPusher
import Logging
import Testing
import TestSupport

/// A runner for stream `stream` of `server`, with explicit credentials and quick retries (tests change the rest).
func makeRunner(
    _ server: KinesisLocal,
    stream: String = "s",
    credentials: AWSCredentialIdentity = TestKeys.test,
    _ change: (inout RunnerConfiguration) -> Void = { _ in }
) throws -> Runner {
    var configuration = RunnerConfiguration(bufferSize: 1000, maxConcurrentPuts: 4)
    configuration.retryBaseDelay = .milliseconds(20)
    configuration.retryMaxDelay = .milliseconds(200)
    change(&configuration)
    let runner = Runner(configuration: configuration).withCredentialProvider(StaticCredentialProvider(credentials))
    try runner.configure(AWSConfig(region: "us-east-1", profile: nil, streamName: stream, endpoint: server.endpoint))
    return runner
}

/// Collects what the failure handler receives.
final class FailureLog: Sendable {
    let failures = Locked<[ProducerFailure]>([])

    var handler: @Sendable (ProducerFailure) -> Void {
        { failure in self.failures.withLock { $0.append(failure) } }
    }

    var count: Int { failures.withLock { $0.count } }
    var codes: [ProducerError.Code] { failures.withLock { $0.map(\.error.code) } }
    var keys: [String] { failures.withLock { $0.map(\.record.partitionKey) } }
}

/// One stream "s" with `shards` shards and no per-shard limits unless asked.
func local(shards: Int = 4, limits: KinesisLocal.Configuration.ShardLimits = .off, faults: KinesisLocal.Faults = .init())
    -> KinesisLocal.Configuration
{
    .init(streams: [.init(name: "s", shardCount: shards)], shardLimits: limits, faults: faults)
}

/// Seconds since `start`.
func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// A client for reading back what the server stored.
func withReader<T>(_ server: KinesisLocal, _ body: (KinesisClient) async throws -> T) async throws -> T {
    try await withKinesisClient(
        url: server.endpoint,
        credentials: StaticCredentialProvider(TestKeys.test),
        logger: Logger(label: "reader", factory: { _ in SwiftLogNoOpLogHandler() }),
        body
    )
}

/// Every record stored in stream "s", from all shards (closed ones too).
func readBack(_ server: KinesisLocal) async throws -> [GetRecordsResult.Record] {
    try await readShards(server).flatMap(\.records)
}

/// Every shard of stream "s" (closed ones too) by shard id, so parents before children, each with its records in
/// sequence order, read with GetRecords.
func readShards(_ server: KinesisLocal) async throws -> [(shard: Shard, records: [GetRecordsResult.Record])] {
    try await withReader(server) { client in
        var shards: [(shard: Shard, records: [GetRecordsResult.Record])] = []
        for shard in try await client.listShards(stream: .name("s")).sorted(by: { $0.shardID < $1.shardID }) {
            var records: [GetRecordsResult.Record] = []
            var iterator: String? = try await client.getShardIterator(stream: .name("s"), shardID: shard.shardID, position: .trimHorizon)
            while let current = iterator {
                let page = try await client.getRecords(shardIterator: current, limit: 10_000)
                records += page.records
                iterator = page.records.isEmpty ? nil : page.nextShardIterator
            }
            shards.append((shard, records))
        }
        return shards
    }
}

extension KinesisLocal {
    var streamStats: KinesisLocal.Stats.StreamStats? { stats().streams["s"] }
}
