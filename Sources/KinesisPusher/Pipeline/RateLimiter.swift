import Backoff
import KinesisAPI

/// Paces PutRecords to what the shards take: per-shard token buckets (records and bytes, half a second of burst) at
/// `percent` of Kinesis's limits, keyed by the predicted shard so one hot key cannot starve the others; a
/// stream-wide budget of open shards × limits while no shard map is known (the seed's rule).
///
/// Adaptive: each budget's rate is scaled by a ``RateController`` fed with the Kinesis records attempted and
/// throttled per shard in each answer (``observe(_:answer:now:)``). Only `ProvisionedThroughputExceededException`
/// is a rate signal; the controller backs off from throttles that fall when the rate falls (the shard's capacity,
/// or other producers sharing it) and learns as noise those that do not.
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
        /// Scales the configured rate: a factor of 1 is the full rate.
        var controller: RateController
        var updatedAt: ContinuousClock.Instant
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

    func recordRate(_ budget: Budget) -> Double { Self.recordsPerSecondPerShard * percent * budget.shards * budget.controller.factor }
    func byteRate(_ budget: Budget) -> Double { Self.bytesPerSecondPerShard * percent * budget.shards * budget.controller.factor }
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

    static func fullBudget(shards: Double, percent: Double, now: ContinuousClock.Instant) -> Budget {
        Budget(
            records: recordsPerSecondPerShard * percent * shards * burstSeconds,
            bytes: bytesPerSecondPerShard * percent * shards * burstSeconds,
            controller: RateController(now: now),
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

    /// A shard's budget taken out for one batch selection: refilled once, then drawn record by record without a
    /// lookup (``take(shard:records:bytes:now:)`` costs a dictionary lookup and a copy of the budget each time,
    /// which was most of what pacing cost per record). Put back with ``finish(_:)``.
    struct Draw {
        fileprivate let key: String?
        fileprivate var records: Double
        fileprivate var bytes: Double
        fileprivate let byteCapacity: Double

        /// The same rule as ``RateLimiter/take(shard:records:bytes:now:)``.
        mutating func take(records count: Int = 1, bytes size: Int) -> Bool {
            guard key != nil else { return true }
            guard records >= Double(count), bytes >= min(Double(size), byteCapacity) else { return false }
            records -= Double(count)
            bytes -= Double(size)
            return true
        }
    }

    /// Takes `shard`'s budget out for drawing; everything passes when the limiter is off or the shard unknown.
    mutating func draw(shard: String?, now: ContinuousClock.Instant) -> Draw {
        let unlimited = Draw(key: nil, records: 0, bytes: 0, byteCapacity: 0)
        guard isEnabled else { return unlimited }
        if budgets.isEmpty { useStreamWide(openShards: 1, now: now) }
        let key = key(shard)
        guard var budget = budgets[key] else { return unlimited }
        refill(&budget, now: now)
        budgets[key] = budget
        return Draw(key: key, records: budget.records, bytes: budget.bytes, byteCapacity: byteCapacity(budget))
    }

    /// Puts a drawn budget back, less what was taken.
    mutating func finish(_ draw: Draw) {
        guard let key = draw.key else { return }
        budgets[key]?.records = draw.records
        budgets[key]?.bytes = draw.bytes
    }

    /// One answer's Kinesis records for `shard`: `attempted` sent, `throttled` of them refused for its capacity.
    mutating func observe(shard: String?, attempted: Int, throttled: Int, perRecord: Bool = true, now: ContinuousClock.Instant) {
        guard isEnabled, attempted > 0 else { return }
        let key = key(shard)
        guard var budget = budgets[key] else { return }
        refill(&budget, now: now)
        budget.controller.observe(attempted: attempted, throttled: throttled, perRecord: perRecord, now: now)
        // A cut shrinks the bucket with the rate.
        budget.records = min(budget.records, recordCapacity(budget))
        budget.bytes = min(budget.bytes, byteCapacity(budget))
        budgets[key] = budget
    }

    func refill(_ budget: inout Budget, now: ContinuousClock.Instant) {
        let elapsed = now - budget.updatedAt
        guard elapsed > .zero else { return }
        let seconds = elapsed.inSeconds
        // Buckets more than half full were not what held records back (too few came for this shard): the rate
        // went unused, proves nothing about the shard, and must not grow.
        let isUsed = budget.records < recordCapacity(budget) / 2 || budget.bytes < byteCapacity(budget) / 2
        _ = budget.controller.factor(at: now, growing: isUsed)
        budget.records = min(recordCapacity(budget), budget.records + recordRate(budget) * seconds)
        budget.bytes = min(byteCapacity(budget), budget.bytes + byteRate(budget) * seconds)
        budget.updatedAt = now
    }

    /// The factor of a shard's budget (1 = full rate) as of its last use, for stats and tests.
    func factor(shard: String?) -> Double {
        budgets[key(shard)]?.controller.factor ?? 1
    }

    /// The throttled share a shard's budget has learned to be random, for stats and tests.
    func noiseFloor(shard: String?) -> Double {
        budgets[key(shard)]?.controller.noiseFloor ?? 0
    }

    /// The records per second the budgets allow now, summed over shards; `nil` when the limit is off.
    var recordsPerSecond: Double? {
        guard isEnabled else { return nil }
        return budgets.values.reduce(0) { $0 + recordRate($1) }
    }
}

extension RateLimiter {
    /// Feeds each budget what one answer says about its shard: the Kinesis records sent to it and how many came
    /// back `ProvisionedThroughputExceededException`, per record or for the whole request. Other failures
    /// (`InternalFailure`, 5xx, dropped connections, `KMSThrottlingException`) say nothing about the shard's
    /// capacity and are not counted.
    mutating func observe(_ batch: RunnerStateMachine.Batch, answer: Result<PutRecordsOutcomes, KinesisError>, now: ContinuousClock.Instant) {
        guard isEnabled else { return }
        // Counted by predicted shard (its index in the batch's shard names); records without a prediction by the
        // shard Kinesis names, in its answer or its throttle message.
        var attempted = [Int](repeating: 0, count: batch.shardNames.count)
        var throttled = attempted
        var unpredicted: [String?: (attempted: Int, throttled: Int)] = [:]
        let throttle = KinesisError.Code.provisionedThroughputExceeded
        let count: Int
        let perRecord: Bool
        let isThrottled: (Int) -> Bool
        let shardNamed: (Int) -> String?
        switch answer {
        case .success(let result):
            count = min(batch.kinesisRecordCount, result.count)
            perRecord = true
            isThrottled = { result.errorCode(at: $0) == throttle.rawValue }
            shardNamed = { isThrottled($0) ? RunnerStateMachine.throttledShard(in: result.errorMessage(at: $0) ?? "") : result.shardID(at: $0) }
        case .failure(let error):
            guard error.code == throttle else { return }
            count = batch.kinesisRecordCount
            perRecord = false
            isThrottled = { _ in true }
            shardNamed = { _ in RunnerStateMachine.throttledShard(in: error.message) }
        }
        for position in 0..<count {
            let first = batch.entries.map { batch.records[$0[position].members.lowerBound] } ?? batch.records[position]
            let slot = Int(first.predictedShard)
            let throttledHere = isThrottled(position)
            if slot >= 0 {
                attempted[slot] += 1
                if throttledHere { throttled[slot] += 1 }
            } else {
                let shard = shardNamed(position)
                unpredicted[shard, default: (0, 0)].attempted += 1
                if throttledHere { unpredicted[shard, default: (0, 0)].throttled += 1 }
            }
        }
        for slot in attempted.indices where attempted[slot] > 0 {
            observe(shard: batch.shardNames[slot], attempted: attempted[slot], throttled: throttled[slot], perRecord: perRecord, now: now)
        }
        for (shard, count) in unpredicted {
            observe(shard: shard, attempted: count.attempted, throttled: count.throttled, perRecord: perRecord, now: now)
        }
    }
}
