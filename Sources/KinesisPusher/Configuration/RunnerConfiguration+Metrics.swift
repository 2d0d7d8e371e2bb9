import CoreMetrics

extension RunnerConfiguration {
    /// Where the runner's metrics go once ``Runner/configureWithMetrics(_:)`` turns them on.
    public struct Metrics: Sendable {
        /// The swift-metrics factory to report to (for example swift-prometheus's); `nil` (the default) means the
        /// globally bootstrapped `MetricsSystem.factory`. The runner bootstraps nothing.
        public var factory: (any MetricsFactory)?
        /// Also report delivered and throttled records per shard (a `shard` label). Off by default: with hundreds
        /// of shards the label count explodes.
        public var perShard: Bool

        /// The global factory, no per-shard series.
        public init(factory: (any MetricsFactory)? = nil, perShard: Bool = false) {
            self.factory = factory
            self.perShard = perShard
        }
    }
}
