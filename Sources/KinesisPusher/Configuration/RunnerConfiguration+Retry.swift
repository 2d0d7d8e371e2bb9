extension RunnerConfiguration {
    /// How long and how often a record is retried after a failed or throttled attempt. Waits are exponential with
    /// full jitter (AWS's recommendation): after the n-th attempt that failed while the stream was failing (the
    /// call refused whole, or at least half of its records failed), a uniformly random time in
    /// `0 … min(maxDelay, baseDelay × 2^(n−1))`. A record that fails among deliveries waits at most `baseDelay`:
    /// the stream is taking records, and the rate limiter paces a shard that throttles.
    public struct Retry: Sendable, Hashable {
        /// PutRecords attempts per record; `nil` (the default) retries until ``recordTTL``.
        public var maxAttempts: Int?
        /// How long a record may take from its acceptance, retries included, before it fails as expired; `nil`
        /// never expires it. Default 30 seconds.
        public var recordTTL: Duration?
        /// The ceiling of the first retry wait; each later ceiling doubles it. Default 100 ms.
        public var baseDelay: Duration
        /// The largest ceiling: no retry waits longer. Default 5 seconds.
        public var maxDelay: Duration
        /// Seeds the generator that draws the jitter (the runner's and its control client's), so a run with a
        /// failure can be replayed exactly from its seed; `nil` (the default) seeds it from the system.
        public var jitterSeed: UInt64?

        /// Retries until a 30-second TTL, waiting 100 ms up to 5 seconds, system-seeded.
        public init(
            maxAttempts: Int? = nil,
            recordTTL: Duration? = .seconds(30),
            baseDelay: Duration = .milliseconds(100),
            maxDelay: Duration = .seconds(5),
            jitterSeed: UInt64? = nil
        ) {
            self.maxAttempts = maxAttempts
            self.recordTTL = recordTTL
            self.baseDelay = baseDelay
            self.maxDelay = maxDelay
            self.jitterSeed = jitterSeed
        }
    }
}
