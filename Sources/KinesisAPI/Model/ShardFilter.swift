import Foundation

/// Which shards ListShards returns.
public struct ShardFilter: Sendable, Hashable {
    /// The filter type as sent: `AT_LATEST`, `AT_TRIM_HORIZON`, `FROM_TRIM_HORIZON`, `AFTER_SHARD_ID`,
    /// `AT_TIMESTAMP`, `FROM_TIMESTAMP`.
    public var type: String
    /// With `AFTER_SHARD_ID`.
    public var shardID: String?
    /// With `AT_TIMESTAMP` and `FROM_TIMESTAMP`.
    public var timestamp: Date?

    /// Only the open shards: the producer's routing table.
    public static let atLatest = ShardFilter(type: "AT_LATEST")
    /// Open and closed shards still within retention (the default without a filter).
    public static let fromTrimHorizon = ShardFilter(type: "FROM_TRIM_HORIZON")
    /// Shards open at the trim horizon.
    public static let atTrimHorizon = ShardFilter(type: "AT_TRIM_HORIZON")
    /// Shards after the given one.
    public static func afterShardID(_ shardID: String) -> ShardFilter { ShardFilter(type: "AFTER_SHARD_ID", shardID: shardID) }

    /// Creates a filter.
    public init(type: String, shardID: String? = nil, timestamp: Date? = nil) {
        self.type = type
        self.shardID = shardID
        self.timestamp = timestamp
    }
}
