extension RunnerConfiguration {
    /// How many PutRecords calls may be in flight at once.
    public struct Concurrency: Sendable, Hashable {
        /// Async: keep up to ``maxConcurrentPuts`` calls in flight. Sync (`false`, the default, as in the seed):
        /// one call at a time, each answer handled before the next batch goes out.
        public var isAsync: Bool
        /// The most PutRecords calls in flight in async mode, at least 1; ignored in sync mode. It also sizes the
        /// runner's own HTTP client (two connections more). Default 10 (the seed's).
        public var maxConcurrentPuts: Int

        /// Sync mode; up to `maxConcurrentPuts` (at least 1) calls once async.
        public init(isAsync: Bool = false, maxConcurrentPuts: Int = 10) {
            self.isAsync = isAsync
            self.maxConcurrentPuts = max(1, maxConcurrentPuts)
        }
    }
}
