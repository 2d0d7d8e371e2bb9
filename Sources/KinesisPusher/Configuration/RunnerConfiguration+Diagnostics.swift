extension RunnerConfiguration {
    /// The seed's debug line: counters (sent, delivered, failed, recovered, retries, throttled, in flight, buffered)
    /// logged at info level on ``RunnerConfiguration/logger``.
    public struct Diagnostics: Sendable, Hashable {
        /// Log the debug line every ``debugInterval``. Default off.
        public var isDebug: Bool
        /// How often the debug line is logged. Default 5 seconds.
        public var debugInterval: Duration

        /// No debug line; every 5 seconds once ``isDebug`` is on.
        public init(isDebug: Bool = false, debugInterval: Duration = .seconds(5)) {
            self.isDebug = isDebug
            self.debugInterval = debugInterval
        }
    }
}
