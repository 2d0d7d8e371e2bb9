/// Paces PutRecords to what the shards take: per-shard token buckets (records and bytes, half a second of burst) at
/// `percent` of Kinesis's limits, keyed by the predicted shard so one hot key cannot starve the others; a
/// stream-wide budget of open shards × limits while no shard map is known (the seed's rule).
///
/// Adaptive: a throttle halves the budget of its shard (at most once per 200 ms); every second without throttles
/// gives back a tenth of the full rate (AIMD), so several producers sharing a stream settle below the limit.
struct RateLimiter {
    static let recordsPerSecondPerShard = 1000.0
    static let bytesPerSecondPerShard = 1_048_576.0
    static let streamWide = "<stream>"
    /// Seconds of rate a bucket holds. Kinesis (and KinesisLocal) allow about a second of burst per shard; a
    /// client bucket as large leaves the shard no headroom, so requests delayed on the way (scheduling, network)
    /// bunch up behind later ones and are throttled. Half a second absorbs that jitter.
    static let burstSeconds = 0.5

    struct Budget {
        var records: Double
        var bytes: Double
        /// The AIMD factor: 1 is the full configured rate.
        var factor = 1.0
        var updatedAt: ContinuousClock.Instant
        var lastDecrease: ContinuousClock.Instant?
        /// Shards this budget stands for (the stream-wide budget covers all of them).
        var shards: Double
    }

    let percent: Double
    /// Off: every record passes (the caller chose to leave pacing to Kinesis's throttling).
    let isEnabled: Bool
    private(set) var budgets: [String: Budget] = [:]
    private var usesShardMap = false

    init(percent: Double?) {
        self.percent = max(1, percent ?? 100) / 100
        self.isEnabled = percent != nil
    }

    func recordRate(_ budget: Budget) -> Double { Self.recordsPerSecondPerShard * percent * budget.shards * budget.factor }
    func byteRate(_ budget: Budget) -> Double { Self.bytesPerSecondPerShard * percent * budget.shards * budget.factor }
    /// At least one record, so a very low rate still lets records through.
    func recordCapacity(_ budget: Budget) -> Double { max(1, recordRate(budget) * Self.burstSeconds) }
    func byteCapacity(_ budget: Budget) -> Double { byteRate(budget) * Self.burstSeconds }

    /// Switches to per-shard budgets for the shards of `map`, keeping the state of shards that stay.
    mutating func use(_ map: ShardMap, now: ContinuousClock.Instant) {
        var next: [String: Budget] = [:]
        for entry in map.entries {
            next[entry.shardID] = budgets[entry.shardID] ?? Self.fullBudget(shards: 1, percent: percent, now: now)
        }
        budgets = next
        usesShardMap = !map.entries.isEmpty
    }

    /// Without a map: one budget for `openShards` shards.
    mutating func useStreamWide(openShards: Int, now: ContinuousClock.Instant) {
        var budget = budgets[Self.streamWide] ?? Self.fullBudget(shards: Double(max(1, openShards)), percent: percent, now: now)
        budget.shards = Double(max(1, openShards))
        budgets = [Self.streamWide: budget]
        usesShardMap = false
    }

    private static func fullBudget(shards: Double, percent: Double, now: ContinuousClock.Instant) -> Budget {
        Budget(
            records: recordsPerSecondPerShard * percent * shards * burstSeconds,
            bytes: bytesPerSecondPerShard * percent * shards * burstSeconds,
            updatedAt: now,
            shards: shards
        )
    }

    func key(_ shard: String?) -> String {
        usesShardMap ? (shard ?? Self.streamWide) : Self.streamWide
    }

    /// Takes tokens for `records` Kinesis records of `bytes` in all bound for `shard`, if the budget has them (an
    /// aggregate takes one record when it opens, then bytes as user records join it).
    mutating func take(shard: String?, records: Int = 1, bytes size: Int, now: ContinuousClock.Instant) -> Bool {
        guard isEnabled else { return true }
        if budgets.isEmpty {
            // Nothing known about the stream yet (no checkShards, map not listed): assume one shard, not unlimited.
            useStreamWide(openShards: 1, now: now)
        }
        let key = key(shard)
        guard var budget = budgets[key] else {
            // A shard the map does not know (gap during a reshard): let it through; the answer will refresh the map.
            return true
        }
        refill(&budget, now: now)
        let byteCapacity = byteCapacity(budget)
        // A record larger than the whole bucket passes on a full bucket (Kinesis lets it use the burst).
        guard budget.records >= Double(records), budget.bytes >= min(Double(size), byteCapacity) else {
            budgets[key] = budget
            return false
        }
        budget.records -= Double(records)
        budget.bytes -= Double(size)
        budgets[key] = budget
        return true
    }

    /// Kinesis throttled a record bound for `shard`: halve that budget (at most once per 200 ms).
    mutating func throttled(shard: String?, now: ContinuousClock.Instant) {
        let key = key(shard)
        guard var budget = budgets[key] else { return }
        refill(&budget, now: now)
        if budget.lastDecrease.map({ now - $0 >= .milliseconds(200) }) ?? true {
            budget.factor = max(0.05, budget.factor * 0.5)
            budget.lastDecrease = now
            budget.records = min(budget.records, recordCapacity(budget))
            budget.bytes = min(budget.bytes, byteCapacity(budget))
        }
        budgets[key] = budget
    }

    func refill(_ budget: inout Budget, now: ContinuousClock.Instant) {
        let elapsed = now - budget.updatedAt
        guard elapsed > .zero else { return }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        budget.factor = min(1, budget.factor + 0.1 * seconds)
        budget.records = min(recordCapacity(budget), budget.records + recordRate(budget) * seconds)
        budget.bytes = min(byteCapacity(budget), budget.bytes + byteRate(budget) * seconds)
        budget.updatedAt = now
    }

    /// The current AIMD factor of a shard's budget (1 = full rate), for stats and tests.
    func factor(shard: String?) -> Double {
        budgets[key(shard)]?.factor ?? 1
    }

    /// The records per second the budgets allow now, summed over shards; `nil` when the limit is off.
    var recordsPerSecond: Double? {
        guard isEnabled else { return nil }
        return budgets.values.reduce(0) { $0 + recordRate($1) }
    }
}
