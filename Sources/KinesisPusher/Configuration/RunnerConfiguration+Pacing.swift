extension RunnerConfiguration {
    /// The client-side rate limit: the runner paces each predicted shard's calls to its write limits instead of
    /// sending until Kinesis throttles.
    public struct Pacing: Sendable, Hashable {
        /// Share of each shard's limits (1000 records/s, 1 MiB/s) the runner aims for, in percent; `nil` turns the
        /// limiter off: the runner sends as fast as Kinesis answers and leaves pacing to its throttling (for
        /// emulators without limits). Default 100.
        public var rateLimitPercent: Double?

        /// Pacing at 100 % of each shard's limits.
        public init(rateLimitPercent: Double? = 100) {
            self.rateLimitPercent = rateLimitPercent
        }
    }
}
