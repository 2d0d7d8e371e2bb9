import KinesisLocal

/// One stream "s" with `shards` shards and no per-shard limits unless asked.
public func local(
    shards: Int = 4,
    limits: KinesisLocal.Configuration.ShardLimits = .off,
    faults: KinesisLocal.Faults = .init()
) -> KinesisLocal.Configuration {
    .init(streams: [.init(name: "s", shardCount: shards)], shardLimits: limits, faults: faults)
}

extension KinesisLocal {
    /// The counters of stream "s".
    public var streamStats: KinesisLocal.Stats.StreamStats? { stats().streams["s"] }
}
