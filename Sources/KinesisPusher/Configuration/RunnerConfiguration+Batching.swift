extension RunnerConfiguration {
    /// How records are gathered into PutRecords calls. A batch goes out when it is full (by count or by bytes) or
    /// when its oldest record has waited ``flushInterval``.
    public struct Batching: Sendable, Hashable {
        /// Records per PutRecords call, 1–500 (Kinesis takes at most 500; values outside are clamped). Default 500.
        public var maxRecordsPerRequest: Int
        /// Bytes (data plus partition keys) per PutRecords call. Default 5 MiB; Kinesis takes up to 10 MiB a call
        /// (and 1 MiB a record).
        public var maxRequestBytes: Int
        /// The longest a record waits for a fuller batch: lower for latency, higher for fewer, fuller calls.
        /// Default 100 ms.
        public var flushInterval: Duration

        /// Full 500-record, 5 MiB batches, flushed after 100 ms.
        public init(maxRecordsPerRequest: Int = 500, maxRequestBytes: Int = 5 << 20, flushInterval: Duration = .milliseconds(100)) {
            self.maxRecordsPerRequest = maxRecordsPerRequest
            self.maxRequestBytes = maxRequestBytes
            self.flushInterval = flushInterval
        }
    }
}
