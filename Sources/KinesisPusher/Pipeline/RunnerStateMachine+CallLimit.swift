extension RunnerStateMachine {
    /// How many PutRecords calls may be in flight: halved when a call fails as a whole (times out, drops, answers
    /// 5xx or a request-level throttle), grown back by about one per round of successful calls (AIMD), never above
    /// the configured maximum. An overloaded endpoint gets fewer concurrent requests instead of a wall of timeouts.
    struct CallLimit {
        let maximum: Int
        /// The AIMD window; the calls allowed are its whole part.
        private(set) var window: Double

        init(maximum: Int) {
            self.maximum = max(1, maximum)
            self.window = Double(self.maximum)
        }

        var allowed: Int { min(maximum, max(1, Int(window))) }

        mutating func callSucceeded() { window = min(Double(maximum), window + 1 / window) }

        mutating func callFailed() { window = max(1, window / 2) }
    }
}
