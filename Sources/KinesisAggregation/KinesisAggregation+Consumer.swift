import Crypto

extension KinesisAggregation {
    /// What a KCL consumer gets from one Kinesis record read from a shard.
    public enum ConsumerView: Sendable, Hashable {
        /// Not an aggregate: the Kinesis record is the user record.
        case plain
        /// An aggregate whose records all belong to the shard, in sub-sequence order.
        case aggregate([UserRecord])
        /// An aggregate holding a record whose hash key lies outside the shard's range (it was stored on a shard
        /// the producer did not predict, after a reshard): the KCL drops it whole.
        case dropped([UserRecord])
    }

    /// Reads `data` as the KCL does for a record of a shard owning `shardHashRange`: deaggregated, or dropped
    /// whole when any of its records hashes outside the range.
    public static func consume(_ data: [UInt8], shardHashRange: ClosedRange<UInt128>) -> ConsumerView {
        guard let records = deaggregate(data) else { return .plain }
        for record in records {
            guard let hash = hashKey(of: record), shardHashRange.contains(hash) else { return .dropped(records) }
        }
        return .aggregate(records)
    }

    /// The 128-bit hash key that routes `record`: its explicit hash key, or the MD5 of its partition key read
    /// as a big-endian number; `nil` for an explicit hash key that is not a number in range.
    public static func hashKey(of record: UserRecord) -> UInt128? {
        if let explicit = record.explicitHashKey { return UInt128(explicit) }
        return Insecure.MD5.hash(data: Array(record.partitionKey.utf8)).reduce(UInt128(0)) { $0 << 8 | UInt128($1) }
    }
}
