extension RateLimiter {
    /// A budget as it stands at some instant, and how it grows: what the run loop needs to know when a full
    /// batch can go, instead of asking again every few milliseconds.
    struct Forecast {
        var records: Double
        var bytes: Double
        var recordsPerSecond: Double
        var bytesPerSecond: Double
        var recordCapacity: Double
        var byteCapacity: Double
        /// The share of the configured rate the budget runs at now (1: full).
        var factor: Double

        /// Record tokens after `seconds` more of refill.
        func records(after seconds: Double) -> Double { min(recordCapacity, records + recordsPerSecond * seconds) }
        /// Byte tokens after `seconds` more of refill.
        func bytes(after seconds: Double) -> Double { min(byteCapacity, bytes + bytesPerSecond * seconds) }
    }

    /// The budget records bound for `shard` draw from, refilled to `now` (nothing is taken); `nil` when nothing
    /// limits them (the limiter is off, or the shard is unknown to the map and let through).
    func forecast(shard: String?, now: ContinuousClock.Instant) -> Forecast? {
        guard isEnabled else { return nil }
        var budget: Budget
        if budgets.isEmpty {
            budget = Budget(records: 0, bytes: 0, updatedAt: now, shards: 1)
            budget.records = recordCapacity(budget)
            budget.bytes = byteCapacity(budget)
        } else if let known = budgets[key(shard)] {
            budget = known
            refill(&budget, now: now)
        } else {
            return nil
        }
        return Forecast(
            records: budget.records,
            bytes: budget.bytes,
            recordsPerSecond: recordRate(budget),
            bytesPerSecond: byteRate(budget),
            recordCapacity: recordCapacity(budget),
            byteCapacity: byteCapacity(budget),
            factor: budget.factor
        )
    }
}
