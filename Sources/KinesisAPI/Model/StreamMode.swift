/// The capacity mode of a stream.
public struct StreamMode: RawRepresentable, Sendable, Hashable {
    /// `PROVISIONED` or `ON_DEMAND`.
    public var rawValue: String
    /// A mode from its wire name.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// A fixed shard count, scaled by UpdateShardCount.
    public static let provisioned = StreamMode(rawValue: "PROVISIONED")
    /// Shards managed by Kinesis (per-shard limits still apply).
    public static let onDemand = StreamMode(rawValue: "ON_DEMAND")
}
