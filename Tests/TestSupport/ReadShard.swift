import KinesisAPI

/// Reads one shard from `position` until an empty page or the end of a closed shard; at most `maxReads` calls.
public func readShard(
    _ client: KinesisClient,
    stream: StreamIdentifier,
    shardID: String,
    position: ShardIteratorPosition = .trimHorizon,
    limit: Int? = nil,
    maxReads: Int = 50
) async throws -> [GetRecordsResult.Record] {
    var records: [GetRecordsResult.Record] = []
    var iterator: String? = try await client.getShardIterator(stream: stream, shardID: shardID, position: position)
    var reads = 0
    while let current = iterator, reads < maxReads {
        reads += 1
        let page = try await client.getRecords(shardIterator: current, limit: limit)
        records += page.records
        if page.records.isEmpty { break }
        iterator = page.nextShardIterator
    }
    return records
}

/// Every shard in `shards` read from TRIM_HORIZON: (shard id, record), shard by shard.
public func readAll(
    _ client: KinesisClient,
    stream: StreamIdentifier,
    shards: [Shard]
) async throws -> [(shardID: String, record: GetRecordsResult.Record)] {
    var all: [(shardID: String, record: GetRecordsResult.Record)] = []
    for shard in shards {
        all += try await readShard(client, stream: stream, shardID: shard.shardID, limit: 1000).map { (shard.shardID, $0) }
    }
    return all
}
