import Backoff
import DequeModule
import KinesisAPI
import KinesisAggregation

/// The producer's whole mutable state and every decision about it, behind the runner's lock.
///
/// A plain value: each event (a record offered, an answer, a map, a wake-up of the run loop) returns what to do —
/// resume a caller, deliver an outcome, send a batch, sleep until an instant — and the runner does it after
/// unlocking. No I/O, no clock of its own, so it is tested without a network. The parts, each in its own file:
/// intake and the waiting line (`+Intake`, `+WaitingLine`), the lanes records wait in per predicted shard
/// (`+Lanes`), batch selection and pacing (`+Batches`), the per-key ordering gate (`+Ordering`), retries, expiry
/// and failure (`+Retries`, `+RetryQueue`), answers and reshard settling (`+Answers`), shutdown (`+Shutdown`) and
/// the run loop's next action (`+Loop`).
struct RunnerStateMachine {
    struct Limits {
        var bufferSize: Int
        var maxBufferedBytes: Int?
        var maxRecordsPerRequest: Int
        var maxRequestBytes: Int
        var flushInterval: Duration
        var recordTTL: Duration?
        var maxAttempts: Int?
        var retryBackoff: ExponentialBackoff
        var maxInFlight: Int
        var shardRefreshInterval: Duration
        /// Keep delivered and throttled counts per shard (for per-shard metrics).
        var countsPerShard: Bool
        var aggregation: RunnerConfiguration.Aggregation?
        /// Per-partition-key ordering.
        var ordered: Bool

        init(_ configuration: RunnerConfiguration) {
            bufferSize = configuration.buffer.size
            maxBufferedBytes = configuration.buffer.maxBytes
            maxRecordsPerRequest = min(500, max(1, configuration.batching.maxRecordsPerRequest))
            maxRequestBytes = configuration.batching.maxRequestBytes
            flushInterval = configuration.batching.flushInterval
            recordTTL = configuration.retry.recordTTL
            maxAttempts = configuration.retry.maxAttempts
            retryBackoff = ExponentialBackoff(base: configuration.retry.baseDelay, cap: configuration.retry.maxDelay)
            maxInFlight = configuration.concurrency.isAsync ? configuration.concurrency.maxConcurrentPuts : 1
            shardRefreshInterval = configuration.shardRefreshInterval
            countsPerShard = configuration.metrics.perShard
            aggregation = configuration.aggregation
            ordered = configuration.ordering == .perPartitionKey
        }
    }

    /// The producer's life, one way: accepting, then draining until a deadline, or cut short when Kinesis refuses
    /// the stream; finished once the runner has told every record its outcome.
    enum Phase {
        case accepting
        /// Intake is closed; what is buffered is flushed until `deadline`.
        case draining(deadline: ContinuousClock.Instant)
        /// Kinesis refused the stream: everything held failed with this, and nothing more is accepted.
        case streamUnusable(RunnerError)
        /// The runner stopped; with the error that made the stream unusable, if one did.
        case finished(RunnerError?)
    }

    /// A caller waiting for buffer space: `send` (with `resume`) or `put` (its outcome continuation is inside the record).
    struct Waiter {
        var record: PendingRecord
        var resume: CheckedContinuation<Void, any Error>?
    }

    /// A record's end, to be told outside the lock.
    struct Outcome {
        var record: PendingRecord
        var result: Result<PutResult, RunnerError>
    }

    /// What the runner must do after a state change.
    struct Effects {
        var outcomes: [Outcome] = []
        /// `send` callers whose record was admitted from the waiting line.
        var admitted: [CheckedContinuation<Void, any Error>] = []
        /// `send` callers refused while waiting (shutdown, stream unusable).
        var refused: [(CheckedContinuation<Void, any Error>, RunnerError)] = []
        /// Acceptance-to-acknowledgement latencies of the records delivered (only while metrics are on).
        var latencies: [Duration] = []

        var isEmpty: Bool { outcomes.isEmpty && admitted.isEmpty && refused.isEmpty && latencies.isEmpty }

        mutating func merge(_ other: Effects) {
            outcomes += other.outcomes
            admitted += other.admitted
            refused += other.refused
            latencies += other.latencies
        }
    }

    struct Batch {
        /// The user records; with aggregation, each entry's members lie together, in entry order.
        var records: [PendingRecord]
        /// The runner's shard names when the batch was packed (``PendingRecord/predictedShard`` indexes them).
        var shardNames: [String]
        /// The Kinesis records of the call when aggregating; `nil`: one per user record, in order.
        var entries: [Entry]?
        var bytes: Int

        /// One Kinesis record of the call: a raw record, or an aggregate of several.
        struct Entry {
            var members: Range<Int>
            /// The shard the map predicted (every member's hash is inside it).
            var shard: String?
            /// An aggregate's key tables and size, worked out while packing; written outside the lock.
            var layout: KinesisAggregation.SizeEstimator?
            var isAggregate: Bool { members.count > 1 }
        }

        /// Calls `body` with each Kinesis record's members and predicted shard, in request order.
        func forEachEntry(_ body: (Int, Range<Int>, _ aggregate: Bool, _ shard: String?) -> Void) {
            if let entries {
                for (index, entry) in entries.enumerated() { body(index, entry.members, entry.isAggregate, entry.shard) }
            } else {
                for index in records.indices { body(index, index..<(index + 1), false, shardName(of: records[index])) }
            }
        }

        var kinesisRecordCount: Int { entries?.count ?? records.count }

        /// The shard the map predicted for `record` when it was packed.
        func shardName(of record: PendingRecord) -> String? {
            record.predictedShard >= 0 ? shardNames[Int(record.predictedShard)] : nil
        }
    }

    var limits: Limits
    var phase = Phase.accepting
    /// Records ready to go, per predicted shard.
    var lanes = Lanes()
    /// Where the next batch starts looking, so no lane is always last.
    var laneRotation = 0
    /// Records backing off after a failed attempt.
    var retries = RetryQueue()
    /// Bytes of everything buffered: lanes, retries and parked records.
    var bufferedBytes = 0
    var waiters = WaitingLine()
    /// Aggregates that landed on an unexpected shard, waiting for a map that knows it.
    var landed: [LandedAggregate] = []
    /// Ordered mode: busy keys and the records parked behind them.
    var ordering: OrderingGate
    var inFlightRequests = 0
    var calls: CallLimit
    var map: ShardMap?
    /// Every shard id a map has named, numbered in first-seen order: records carry the number, so moving a record
    /// between lane, batch and outcome retains no shard id string.
    var shardNames: [String] = []
    var shardNumbers: [String: Int32] = [:]
    /// The numbers of the current map's shards, by position in the map (= lane).
    var mapShardNumbers: [Int32] = []
    var limiter: RateLimiter
    var stats = RunnerStats()
    /// Counts by error code, for metrics.
    var tally = Tally()

    /// Keyed by metric label: error codes and shard ids from answers arrive bounded
    /// (``RunnerMetrics/errorCodeLabel(_:)``, ``shardLabel(_:)``), so a hostile endpoint cannot grow them.
    struct Tally {
        /// Record attempts throttled, by error code.
        var throttledRecords: [String: Int] = [:]
        /// Record attempts failed for other reasons, by error code.
        var failedAttempts: [String: Int] = [:]
        /// PutRecords calls that failed as a whole, by error code.
        var requestErrors: [String: Int] = [:]
        /// Records that ran out of time to live.
        var expired = 0
        /// Delivered records by shard (only with per-shard metrics).
        var deliveredByShard: [String: Int] = [:]
        /// Throttled record attempts by predicted shard (only with per-shard metrics).
        var throttledByShard: [String: Int] = [:]
    }
    /// Set when an answer shows the map is stale (a record landed on a shard that does not own its hash).
    var refreshRequested = false

    /// Whether a caller has handed it anything (a record, or a `send` waiting for room): then it must not be
    /// replaced by one built from changed options.
    var hasTakenRecords: Bool { stats.sent > 0 || !waiters.isEmpty }
    var refreshInFlight = false
    var lastRefresh: ContinuousClock.Instant?
    /// Data plus key may not exceed this (the stream's `MaxRecordSizeInKiB`).
    var maxRecordBytes = 1_048_576
    /// Collect delivered records' latencies in ``Effects/latencies`` (for the latency histogram).
    var collectsLatencies = false
    /// Report deliveries of `send` records as outcomes. The runner turns this on only for a delivery handler: an
    /// outcome per delivered record costs more than the rest of its bookkeeping.
    var reportsHandlerDeliveries = true
    var nextID: UInt64 = 0
    /// Draws the retry jitter; seeded so a run can be replayed.
    var jitter: SplitMix64

    init(limits: Limits, rateLimitPercent: Double?, jitterSeed: UInt64? = nil) {
        self.limits = limits
        self.jitter = SplitMix64(seed: jitterSeed)
        self.calls = CallLimit(maximum: limits.maxInFlight)
        self.limiter = RateLimiter(percent: rateLimitPercent)
        self.lanes = Lanes(tracksKeys: limits.ordered)
        self.ordering = OrderingGate(aggregated: limits.aggregation != nil)
    }

    var bufferedCount: Int { lanes.count + retries.count + ordering.parkedCount }
    /// Callers suspended in `send` or `put` until there is room.
    var waitingCount: Int { waiters.count }
    var isIdle: Bool { bufferedCount == 0 && inFlightRequests == 0 && waiters.isEmpty && landed.isEmpty }
    /// The AIMD window of calls in flight (for the gauge).
    var concurrencyLimit: Double { calls.window }
    var isDraining: Bool { if case .draining = phase { true } else { false } }
    /// The error that made the stream unusable, once one has.
    var terminal: RunnerError? {
        switch phase {
        case .streamUnusable(let error), .finished(let error?): error
        case .accepting, .draining, .finished(nil): nil
        }
    }

    /// Counters with the live gauges filled in.
    var snapshot: RunnerStats {
        var stats = stats
        stats.inFlight = inFlightRequests
        stats.buffered = bufferedCount
        return stats
    }

    /// Bytes (data plus keys) of the records waiting now.
    var bufferedByteCount: Int { bufferedBytes }

    /// When the longest-waiting buffered record was accepted.
    var oldestBufferedAcceptance: ContinuousClock.Instant? {
        let candidates = [lanes.oldestAcceptance, retries.records.map(\.acceptedAt).min(), ordering.oldestParkedAcceptance]
        return candidates.compactMap { $0 }.min()
    }
}
