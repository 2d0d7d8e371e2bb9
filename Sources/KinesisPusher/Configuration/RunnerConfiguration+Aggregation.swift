import KinesisAggregation

extension RunnerConfiguration {
    /// KPL aggregation: many user records in one Kinesis record, so small records use a shard's 1 MiB/s instead
    /// of stopping at its 1000 records/s.
    ///
    /// Records are packed only with records the shard map predicts for the same shard, and each aggregate
    /// carries an explicit hash key inside that shard. When a reshard moves an aggregate to a shard that does
    /// not own all of its records (the KCL would drop it whole), its records are packed again under the new map
    /// and resent. Consumers need a KPL-aware reader (the KCL, `aws-kinesis-agg`, or
    /// `KinesisAggregation.deaggregate`).
    public struct Aggregation: Sendable, Hashable {
        /// The largest aggregated Kinesis record, data plus partition key, in bytes. Default 51,200 (the KPL's);
        /// at most the stream's maximum record size (1 MiB unless raised).
        public var maxSize: Int
        /// The most user records in one aggregate. Default: no limit besides ``maxSize``.
        public var maxCount: Int

        /// Aggregation with the KPL's defaults.
        public init(maxSize: Int = 51_200, maxCount: Int = .max) {
            // Room for the format's own 20 bytes and at least one small record.
            self.maxSize = max(KinesisAggregation.overhead + 64, maxSize)
            self.maxCount = max(1, maxCount)
        }
    }
}
