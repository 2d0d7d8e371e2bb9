/// What DescribeStream tells (legacy, paginated by shard): status, mode and every shard.
public struct StreamDescription: Sendable, Hashable {
    /// The stream's name.
    public var streamName: String
    /// The stream's ARN.
    public var streamARN: String
    /// `CREATING`, `DELETING`, `ACTIVE` or `UPDATING`.
    public var streamStatus: String
    /// `PROVISIONED` or `ON_DEMAND`, when the service says.
    public var streamMode: String?
    /// How long records are kept.
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
