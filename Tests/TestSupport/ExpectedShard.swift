import KinesisAPI

/// The shard index an entry must land on with an even split into `count` shards.
public func expectedShard(_ entry: PutRecordsEntry, count: Int) -> Int? {
    let hash = entry.explicitHashKey.flatMap { HashKey(decimal: $0) } ?? HashKey(partitionKey: entry.partitionKey)
    return route(hash, in: evenSplit(count))
}
