import AWSCredentials
import KinesisAPI
import KinesisLocal
import Logging

/// A client for reading back what `server` stored.
public func withReader<T>(_ server: KinesisLocal, _ body: (KinesisClient) async throws -> T) async throws -> T {
    try await withKinesisClient(
        url: server.endpoint,
        credentials: StaticCredentialProvider(TestKeys.test),
        logger: Logger(label: "reader", factory: { _ in SwiftLogNoOpLogHandler() }),
        body
    )
}

/// Every record stored in stream "s" of `server`, from all shards (closed ones too).
public func readBack(_ server: KinesisLocal) async throws -> [GetRecordsResult.Record] {
    try await readShards(server).flatMap(\.records)
}

/// Every shard of stream "s" (closed ones too) by shard id, so parents before children, each with its records in
/// sequence order.
public func readShards(_ server: KinesisLocal) async throws -> [(shard: Shard, records: [GetRecordsResult.Record])] {
    try await withReader(server) { client in
        var shards: [(shard: Shard, records: [GetRecordsResult.Record])] = []
        for shard in try await client.listShards(stream: .name("s")).sorted(by: { $0.shardID < $1.shardID }) {
            let records = try await readShard(client, stream: .name("s"), shardID: shard.shardID, limit: 10_000, maxReads: 10_000)
            shards.append((shard, records))
        }
        return shards
    }
}
