/// What DescribeStream tells (legacy, paginated by shard): status, mode and every shard.
public struct StreamDescription: Sendable, Hashable {
    public var streamName: String
    public var streamARN: String
    public var streamStatus: String
    public var streamMode: String?
    public var retentionPeriodHours: Int?
    /// Every shard, open and closed, across all pages.
    public var shards: [Shard]
}

/// One DescribeStream page as it arrives.
struct DescribeStreamPage: Decodable {
    struct Body: Decodable {
        var StreamName: String
        var StreamARN: String
        var StreamStatus: String
        var StreamModeDetails: StreamSummary.ModeDetails?
        var RetentionPeriodHours: Int?
        var Shards: [Shard]
        var HasMoreShards: Bool
    }
    var StreamDescription: Body
}
