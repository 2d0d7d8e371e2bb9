extension RunnerConfiguration {
    /// The records the runner holds before they are in flight: the bound on its memory besides the calls in flight.
    /// `send` suspends while the buffer is full (backpressure, never a silent drop) and `trySend` refuses.
    public struct Buffer: Sendable, Hashable {
        /// Records accepted but not yet in flight, at least 1. Default 1000 (the seed's). With aggregation, raise
        /// it: an aggregate fills only from records buffered at the same time.
        public var size: Int
        /// A cap on the bytes (data plus partition keys) of those records, beside ``size``; `nil` (the default)
        /// caps the count only. A record larger than the cap is still taken when the buffer is empty.
        public var maxBytes: Int?

        /// A buffer of `size` records (at least 1), optionally capped at `maxBytes`.
        public init(size: Int = 1000, maxBytes: Int? = nil) {
            self.size = max(1, size)
            self.maxBytes = maxBytes
        }
    }
}
