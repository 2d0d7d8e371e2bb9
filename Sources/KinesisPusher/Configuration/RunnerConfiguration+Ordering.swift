extension RunnerConfiguration {
    /// The order guarantee the runner keeps.
    public enum Ordering: Sendable, Hashable {
        /// Throughput first: after a failed attempt, a record may land behind records sent after it (as with
        /// PutRecords, the KPL and every batching producer).
        case none
        /// Records with the same partition key reach Kinesis in the order they were sent, across retries and in
        /// async mode. While one of a key's records is in flight or backing off, the key's later records wait,
        /// and a PutRecords call carries at most one Kinesis record per key (with aggregation, one aggregate
        /// holds all of a key's records in that call). Costs throughput when few keys are hot; none with many
        /// keys.
        case perPartitionKey
    }
}
