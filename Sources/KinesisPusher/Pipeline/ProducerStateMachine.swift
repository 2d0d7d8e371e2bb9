import Backoff
import DequeModule
import KinesisAPI
import KinesisAggregation

/// The producer's whole mutable state and every decision about it: intake with backpressure, batch selection
/// under the rate limiter, per-entry result handling, retries with backoff, expiry, shutdown.
///
/// A plain value behind the runner's lock: methods return what to do (resume a caller, deliver an outcome, send
/// a batch), and the runner does it after unlocking. No I/O, no clock of its own, so it is tested without a
/// network.
struct ProducerStateMachine {
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
        /// Keep delivered and throttled counts per shard (for per-shard metrics).
        var countsPerShard: Bool
        var aggregation: RunnerConfiguration.Aggregation?
        /// Per-partition-key ordering.
        var ordered: Bool

        init(_ configuration: RunnerConfiguration) {
            bufferSize = configuration.bufferSize
            maxBufferedBytes = configuration.maxBufferedBytes
            maxRecordsPerRequest = min(500, max(1, configuration.maxRecordsPerRequest))
            maxRequestBytes = configuration.maxRequestBytes
            flushInterval = configuration.flushInterval
            recordTTL = configuration.recordTTL
            maxAttempts = configuration.maxAttempts
            retryBackoff = ExponentialBackoff(base: configuration.retryBaseDelay, cap: configuration.retryMaxDelay)
            maxInFlight = configuration.isAsync ? configuration.maxConcurrentPuts : 1
            countsPerShard = configuration.metricsPerShard
            aggregation = configuration.aggregation
            ordered = configuration.ordering == .perPartitionKey
        }
    }

    enum Phase {
        case accepting
        case draining(deadline: ContinuousClock.Instant)
        case finished
    }

    /// A caller waiting for buffer space: `send` (with `resume`) or `put` (its outcome continuation is inside the record).
    struct Waiter {
        var record: PendingRecord
        var resume: CheckedContinuation<Void, any Error>?
    }

    /// A record's end, to be told outside the lock.
    struct Outcome {
        var record: PendingRecord
        var result: Result<PutResult, ProducerError>
    }

    /// What the runner must do after a state change.
    struct Effects {
        var outcomes: [Outcome] = []
        /// `send` callers whose record was admitted from the waiting line.
        var admitted: [CheckedContinuation<Void, any Error>] = []
        /// `send` callers refused while waiting (shutdown, stream unusable).
        var refused: [(CheckedContinuation<Void, any Error>, ProducerError)] = []
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

    /// An aggregate stored on a shard the map did not predict: delivered only if that shard owns all of its
    /// records, which is known once the map has the shard.
    struct LandedAggregate {
        var shardID: String
        var sequenceNumber: String
        var members: [PendingRecord]
    }

    var limits: Limits
    private(set) var phase = Phase.accepting
    private var ready: Deque<PendingRecord> = []
    private var readyBytes = 0
    /// Records backing off after a failed attempt.
    private var backoff: [PendingRecord] = []
    private var bufferedBytes = 0
    private var waiters: Deque<Waiter> = []
    /// Aggregates that landed on an unexpected shard, waiting for a map that knows it.
    private var landed: [LandedAggregate] = []
    /// Ordered mode: records in flight or backing off, by partition key; those keys' later records wait.
    private var busyKeys: [Int: Int] = [:]
    /// Ordered mode: records whose key is busy, set aside in order so scans do not walk over them again; the
    /// oldest go back to the front of the buffer, marked ``PendingRecord/isKeyHead``, once the key is free.
    private var parked: [Int: Deque<PendingRecord>] = [:]
    private var parkedCount = 0
    /// Ordered aggregated mode: per key, its heads (records unparked to the front) not yet sent, failed or parked
    /// again, and the newest one's id. The waiting heads are the newest of those unparked (heads leave from the
    /// front), so a parked record older than that id is older than all of them (a retry, a head parked again) and
    /// must go before them, and one newer must wait behind them. Without aggregation a key has one head at a time
    /// and nothing unparks it before it leaves.
    private var waitingHeads: [Int: (count: Int, newest: UInt64)] = [:]
    private(set) var inFlightRequests = 0
    /// Calls allowed in flight now: halved when a call times out, fails or is throttled as a whole, grown back by
    /// about one per round of successful calls (AIMD), never above `limits.maxInFlight`. An overloaded endpoint
    /// gets fewer concurrent requests instead of a wall of timeouts.
    private(set) var concurrencyLimit: Double
    private(set) var map: ShardMap?
    /// Every shard id a map has named, numbered in first-seen order: records carry the number, so moving a record
    /// between buffer, batch and outcome retains no shard id string.
    private(set) var shardNames: [String] = []
    private var shardNumbers: [String: Int32] = [:]
    /// The numbers of the current map's shards, by position in the map.
    private var mapShardNumbers: [Int32] = []
    private(set) var limiter: RateLimiter
    private(set) var stats = RunnerStats()
    /// Counts by error code, for metrics.
    private(set) var tally = Tally()

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
    private(set) var terminal: ProducerError?
    /// Set when an answer shows the map is stale (a record landed on a shard that does not own its hash).
    private(set) var refreshRequested = false
    /// The last batch left records behind for want of rate budget: wait for the next tick before the next one,
    /// so the budget refills into a fuller batch instead of many tiny ones.
    private(set) var lastBatchBudgetLimited = false
    private var refreshInFlight = false
    private var lastRefresh: ContinuousClock.Instant?
    /// Data plus key may not exceed this (the stream's `MaxRecordSizeInKiB`).
    var maxRecordBytes = 1_048_576
    /// Collect delivered records' latencies in ``Effects/latencies`` (for the latency histogram).
    var collectsLatencies = false
    /// Report deliveries of `send` records as outcomes. The runner turns this off: nobody waits for them, and an
    /// outcome per delivered record costs more than the rest of its bookkeeping.
    var reportsHandlerDeliveries = true
    private var nextID: UInt64 = 0
    /// Draws the retry jitter; seeded so a run can be replayed.
    private var jitter: SplitMix64

    init(limits: Limits, rateLimitPercent: Double?, jitterSeed: UInt64? = nil) {
        self.limits = limits
        self.jitter = SplitMix64(seed: jitterSeed)
        self.concurrencyLimit = Double(limits.maxInFlight)
        self.limiter = RateLimiter(percent: rateLimitPercent)
    }

    var bufferedCount: Int { ready.count + backoff.count + parkedCount }
    /// Callers suspended in `send` or `put` until there is room.
    var waitingCount: Int { waiters.count }
    var isIdle: Bool { bufferedCount == 0 && inFlightRequests == 0 && waiters.isEmpty && landed.isEmpty }

    // MARK: Intake

    enum OfferResult {
        /// Accepted; `batchReady` when a full batch is waiting, so the run loop should look now rather than at
        /// its next tick.
        case accepted(batchReady: Bool)
        case waiting
        case full
        case refused(ProducerError)
    }

    /// A fresh record id, taken before offering so a cancellation handler can name the record.
    mutating func makeID() -> UInt64 {
        nextID += 1
        return nextID
    }

    /// Admits a validated record, or parks its caller (when it may wait), or says the buffer is full.
    mutating func offer(
        _ record: Record,
        id: UInt64,
        hash: UInt128,
        completion: PendingRecord.Completion,
        resume: CheckedContinuation<Void, any Error>?,
        mayWait: Bool,
        countsRefusal: Bool = true,
        now: ContinuousClock.Instant
    ) -> OfferResult {
        if let terminal {
            stats.rejected += 1
            return .refused(terminal)
        }
        guard case .accepting = phase else {
            stats.rejected += 1
            return .refused(ProducerError(.shutdown, message: "the runner is shutting down; record '\(record.partitionKey)' was not accepted"))
        }
        let pending = PendingRecord(
            id: id,
            record: record,
            hash: hash,
            size: record.billedSize,
            acceptedAt: now,
            deadline: limits.recordTTL.map { now + $0 },
            completion: completion,
            ordered: limits.ordered
        )
        if waiters.isEmpty && hasRoom(for: pending.size) {
            admit(pending)
            // Only the record that makes a batch full wakes the run loop: it takes batches until none is left, and
            // every answer wakes it again, so a wake per record after that would be wasted.
            let fullByCount = ready.count == limits.maxRecordsPerRequest
            let fullByBytes = readyBytes >= limits.maxRequestBytes && readyBytes - pending.size < limits.maxRequestBytes
            return .accepted(batchReady: fullByCount || fullByBytes)
        }
        guard mayWait else {
            // `send` tries without waiting first; only `trySend` counts a full buffer as a refusal.
            if countsRefusal { stats.rejected += 1 }
            return .full
        }
        waiters.append(Waiter(record: pending, resume: resume))
        return .waiting
    }

    /// Counts a record refused at the door (invalid).
    mutating func countRejected() { stats.rejected += 1 }

    private func hasRoom(for size: Int) -> Bool {
        guard bufferedCount < limits.bufferSize else { return false }
        if let cap = limits.maxBufferedBytes, bufferedBytes > 0, bufferedBytes + size > cap { return false }
        return true
    }

    private mutating func admit(_ pending: PendingRecord) {
        ready.append(pending)
        readyBytes += pending.size
        bufferedBytes += pending.size
        stats.sent += 1
    }

    /// Moves waiting callers into the buffer while there is room.
    private mutating func admitWaiters(into effects: inout Effects) {
        while let first = waiters.first, hasRoom(for: first.record.size) {
            waiters.removeFirst()
            admit(first.record)
            if let resume = first.resume { effects.admitted.append(resume) }
        }
    }

    /// A waiting caller was cancelled: takes it out of the line (its record was never accepted).
    mutating func cancelWaiter(id: UInt64) -> Waiter? {
        guard let index = waiters.firstIndex(where: { $0.record.id == id }) else { return nil }
        return waiters.remove(at: index)
    }

    // MARK: Shard map

    /// Uses `map` from now on, and settles the aggregates that were waiting for it.
    mutating func install(_ map: ShardMap, now: ContinuousClock.Instant) -> Effects {
        self.map = map
        mapShardNumbers = map.entries.map { number(ofShard: $0.shardID) }
        lastRefresh = now
        limiter.use(map, now: now)
        var effects = Effects()
        let waiting = landed
        landed = []
        for aggregate in waiting { settle(aggregate, now: now, waitIfUnknown: false, into: &effects) }
        return effects
    }

    private mutating func number(ofShard id: String) -> Int32 {
        if let number = shardNumbers[id] { return number }
        let number = Int32(shardNames.count)
        shardNames.append(id)
        shardNumbers[id] = number
        return number
    }

    mutating func useStreamWideBudget(openShards: Int, now: ContinuousClock.Instant) {
        limiter.useStreamWide(openShards: openShards, now: now)
    }

    mutating func requestRefresh() { refreshRequested = true }

    /// Whether to list the shards now (interval passed, or a stale map was noticed); marks a refresh in flight.
    mutating func startRefreshIfDue(now: ContinuousClock.Instant, interval: Duration) -> Bool {
        guard !refreshInFlight else { return false }
        let due = refreshRequested || lastRefresh.map { now - $0 >= interval } ?? true
        guard due else { return false }
        refreshInFlight = true
        refreshRequested = false
        lastRefresh = now
        return true
    }

    mutating func refreshFinished() { refreshInFlight = false }

    // MARK: Batches

    /// Picks the next PutRecords batch, if one is due: full (records or bytes), or its oldest record has waited a
    /// flush interval, or the runner is draining. Records whose shard has no budget left stay, in order.
    mutating func nextBatch(now: ContinuousClock.Instant) -> (Batch?, Effects) {
        var effects = Effects()
        releaseDueRetries(now: now)
        expireReady(now: now, into: &effects)
        guard inFlightRequests < min(limits.maxInFlight, max(1, Int(concurrencyLimit))), let oldest = ready.first else {
            return (nil, effects)
        }
        let draining: Bool
        if case .draining = phase { draining = true } else { draining = false }
        // Aggregates fill from what is buffered at once: with aggregation a batch is full at half the buffer, up to
        // the records one call packs (kept moderate: they are packed under the lock that senders wait on).
        let fullCount = limits.aggregation == nil
            ? limits.maxRecordsPerRequest : max(limits.maxRecordsPerRequest, min(limits.bufferSize / 2, Self.aggregatedRecordsPerCall))
        let due =
            draining || ready.count >= fullCount || readyBytes >= limits.maxRequestBytes
            || (oldest.notBefore ?? oldest.acceptedAt) + limits.flushInterval <= now || oldest.attempts > 0
        guard due else { return (nil, effects) }

        let batch: Batch?
        if let aggregation = limits.aggregation, let map {
            batch = takeAggregated(aggregation, map: map, now: now)
        } else {
            batch = takeRaw(now: now)
        }
        guard let batch else { return (nil, effects) }
        inFlightRequests += 1
        stats.requests += 1
        admitWaiters(into: &effects)
        return (batch, effects)
    }

    /// One Kinesis record per user record, in buffer order.
    private mutating func takeRaw(now: ContinuousClock.Instant) -> Batch? {
        var batch: [PendingRecord] = []
        var bytes = 0
        var skipped: [PendingRecord] = []
        var budgetLimited = false
        // Ordered mode: keys already in this call, or with a record skipped in it.
        var closedKeys: Set<Int> = []
        var scanned = 0
        let scanLimit = max(limits.maxRecordsPerRequest * 8, 4000)
        while batch.count < limits.maxRecordsPerRequest, scanned < scanLimit, var record = ready.popFirst() {
            scanned += 1
            readyBytes -= record.size
            if bytes + record.size > limits.maxRequestBytes {
                ready.prepend(record)
                readyBytes += record.size
                break
            }
            let slot = map?.index(for: record.hash)
            let shard = slot.map { map!.entries[$0].shardID }
            if limits.ordered {
                let key = record.orderingKey
                if mustPark(record) {
                    park(record)
                    continue
                }
                guard closedKeys.insert(key).inserted else {
                    skipped.append(record)
                    continue
                }
            }
            guard limiter.take(shard: shard, records: 1, bytes: record.size, now: now) else {
                budgetLimited = true
                skipped.append(record)
                continue
            }
            markSent(&record, slot: slot)
            bytes += record.size
            batch.append(record)
        }
        restore(skipped)
        lastBatchBudgetLimited = budgetLimited
        holdKeys(&batch)
        return batch.isEmpty ? nil : Batch(records: batch, shardNames: shardNames, entries: nil, bytes: bytes)
    }

    /// User records packed per predicted shard into aggregates (see ``AggregatingBatch``).
    private mutating func takeAggregated(_ aggregation: RunnerConfiguration.Aggregation, map: ShardMap, now: ContinuousClock.Instant) -> Batch? {
        var builder = AggregatingBatch(
            maxEntries: limits.maxRecordsPerRequest,
            maxBytes: limits.maxRequestBytes,
            maxSize: min(aggregation.maxSize, maxRecordBytes),
            maxCount: aggregation.maxCount,
            ordered: limits.ordered,
            shardCount: map.count
        )
        var skipped: [PendingRecord] = []
        // Shards (by position in the map) whose budget ran out in this call: their records are skipped without
        // asking again.
        var exhausted = Array(repeating: false, count: map.count)
        var exhaustedCount = 0
        var closedKeys: Set<Int> = []
        var scanned = 0
        let scanLimit = Self.aggregatedRecordsPerCall
        // Stops early once every shard is out of budget.
        scan: while scanned < scanLimit, exhaustedCount < map.count, var record = ready.popFirst() {
            scanned += 1
            readyBytes -= record.size
            if limits.ordered, mustPark(record) {
                park(record)
                continue
            }
            let slot = map.index(for: record.hash)
            let shard = slot.map { map.entries[$0].shardID }
            var taken = false
            if !(slot.map { exhausted[$0] } ?? false),
                !limits.ordered || !closedKeys.contains(record.orderingKey)
            {
                let placement = builder.placement(for: record, shard: slot)
                switch placement {
                case .full:
                    ready.prepend(record)
                    readyBytes += record.size
                    break scan
                case .skip:
                    break
                case .join(_, let added, _):
                    taken = limiter.take(shard: shard, records: 0, bytes: added, now: now)
                case .open(let size, _):
                    taken = limiter.take(shard: shard, records: 1, bytes: size, now: now)
                }
                if !taken, let slot, placement.takesBudget {
                    exhausted[slot] = true
                    exhaustedCount += 1
                }
                if taken {
                    markSent(&record, slot: slot)
                    builder.place(record, shard: slot, shardID: shard, placement)
                }
            }
            if !taken {
                if limits.ordered { closedKeys.insert(record.orderingKey) }
                skipped.append(record)
            }
        }
        restore(skipped)
        lastBatchBudgetLimited = exhaustedCount > 0
        guard !builder.isEmpty else { return nil }
        let packed = builder.finish()
        var records = packed.records
        holdKeys(&records)
        return Batch(records: records, shardNames: shardNames, entries: packed.entries, bytes: builder.bytes)
    }

    /// User records looked at for one aggregated call: about 450 KB of 100-byte records, a few milliseconds under
    /// the lock.
    static let aggregatedRecordsPerCall = 4096

    /// A record leaves the buffer for a call.
    private mutating func markSent(_ record: inout PendingRecord, slot: Int?) {
        headLeft(&record)
        record.predictedShard = slot.map { mapShardNumbers[$0] } ?? -1
        record.attempts += 1
        if record.attempts > 1 { stats.retries += 1 }
        bufferedBytes -= record.size
    }

    /// Ordered mode: the records of a new call hold back their keys' later records until they are done. Done
    /// after the call is packed, so a key's own records in the call do not block each other.
    private mutating func holdKeys(_ records: inout [PendingRecord]) {
        guard limits.ordered else { return }
        for index in records.indices {
            records[index].holdsKey = true
            busyKeys[records[index].orderingKey, default: 0] += 1
        }
    }

    /// Puts skipped records back at the front, in their order.
    private mutating func restore(_ skipped: [PendingRecord]) {
        for record in skipped.reversed() {
            ready.prepend(record)
            readyBytes += record.size
        }
    }

    /// Ordered mode: the record no longer holds back its key's later records; when it was the key's last one
    /// out, the key's parked records go back to the front of the buffer.
    private mutating func releaseKey(_ record: inout PendingRecord, unparks: Bool = true) {
        guard record.holdsKey else { return }
        record.holdsKey = false
        let key = record.orderingKey
        if let count = busyKeys[key], count > 1 {
            busyKeys[key] = count - 1
            return
        }
        busyKeys[key] = nil
        if unparks { unpark(key) }
    }

    /// Ordered mode: a record waits behind its key's busy or parked records, unless it is the key's head.
    private func mustPark(_ record: PendingRecord) -> Bool {
        busyKeys[record.orderingKey] != nil || (!record.isKeyHead && parked[record.orderingKey] != nil)
    }

    /// Ordered mode: a head leaves the front of the buffer (sent, failed or parked again).
    private mutating func headLeft(_ record: inout PendingRecord) {
        guard record.isKeyHead else { return }
        record.isKeyHead = false
        guard limits.aggregation != nil, let waiting = waitingHeads[record.orderingKey] else { return }
        waitingHeads[record.orderingKey] = waiting.count > 1 ? (waiting.count - 1, waiting.newest) : nil
    }

    /// Ordered mode: sets aside a record whose key is busy (it already left `ready` and `readyBytes`).
    /// Kept in acceptance order (ids grow with it): a head parked again goes back before newer records.
    private mutating func park(_ record: PendingRecord) {
        var record = record
        headLeft(&record)
        parkedCount += 1
        var waiting = parked.removeValue(forKey: record.orderingKey) ?? []
        if let last = waiting.last, last.id > record.id {
            let index = waiting.firstIndex { $0.id > record.id } ?? waiting.endIndex
            waiting.insert(record, at: index)
        } else {
            waiting.append(record)
        }
        parked[record.orderingKey] = waiting
    }

    /// Ordered mode: once `key` is free, its oldest parked records go to the front of the buffer as its heads:
    /// one without aggregation (a call carries one record per key), an aggregate's worth with it. Moving them
    /// all would shuffle a hot key's whole backlog on every call.
    private mutating func unpark(_ key: Int) {
        guard busyKeys[key] == nil, var waiting = parked[key] else { return }
        var count = min(waiting.count, limits.aggregation == nil ? 1 : 512)
        // Heads still waiting in front: only parked records older than them may join them there.
        let waitingAhead = limits.aggregation == nil ? nil : waitingHeads[key]
        if let waitingAhead { count = min(count, waiting.prefix(count).prefix { $0.id < waitingAhead.newest }.count) }
        guard count > 0 else { return }
        var heads: [PendingRecord] = []
        heads.reserveCapacity(count)
        for _ in 0..<count {
            var record = waiting.removeFirst()
            record.isKeyHead = true
            heads.append(record)
        }
        parked[key] = waiting.isEmpty ? nil : waiting
        parkedCount -= count
        if limits.aggregation != nil {
            waitingHeads[key] = ((waitingAhead?.count ?? 0) + count, max(waitingAhead?.newest ?? 0, heads[heads.count - 1].id))
        }
        for record in heads.reversed() {
            ready.prepend(record)
            readyBytes += record.size
        }
    }

    private mutating func releaseDueRetries(now: ContinuousClock.Instant) {
        guard !backoff.isEmpty else { return }
        var due: [PendingRecord] = []
        backoff.removeAll { record in
            guard record.notBefore.map({ $0 <= now }) ?? true else { return false }
            due.append(record)
            return true
        }
        guard limits.ordered else {
            // Retries go ahead of newer records, oldest first.
            for record in due.sorted(by: { $0.id > $1.id }) {
                ready.prepend(record)
                readyBytes += record.size
            }
            return
        }
        // Ordered mode: the members of a failed aggregate each draw their own backoff and come due one by one.
        // Each joins its key's parked records in acceptance order; once the key's last busy record is out, the
        // oldest go to the front together.
        var keys: Set<Int> = []
        for var record in due {
            releaseKey(&record, unparks: false)
            park(record)
            keys.insert(record.orderingKey)
        }
        for key in keys { unpark(key) }
    }

    private mutating func expireReady(now: ContinuousClock.Instant, into effects: inout Effects) {
        // Only the head needs checking: records behind it were accepted later (retries carry their own deadline
        // and are checked when scheduled).
        while let first = ready.first, let deadline = first.deadline, deadline <= now {
            ready.removeFirst()
            readyBytes -= first.size
            bufferedBytes -= first.size
            fail(first, ProducerError(
                .expired,
                message: "record '\(first.record.partitionKey)' was not delivered within its time to live"
                    + (first.lastError.map { "; last error: \($0.code): \($0.message)" } ?? ""),
                attempts: first.attempts,
                kinesisError: first.lastError
            ), into: &effects)
        }
        admitWaiters(into: &effects)
    }

    // MARK: Answers

    /// Handles the answer to a batch: successes complete, failed entries retry with backoff (or fail for good),
    /// request-level errors apply to the whole batch.
    mutating func complete(_ batch: Batch, with answer: Result<PutRecordsResult, KinesisError>, now: ContinuousClock.Instant) -> Effects {
        inFlightRequests -= 1
        limiter.observe(batch, answer: answer, now: now)  // the rate signal: attempted and throttled per shard
        var effects = Effects()
        switch answer {
        case .success(let result):
            concurrencyLimit = min(Double(limits.maxInFlight), concurrencyLimit + 1 / concurrencyLimit)
            let entries = batch.entries ?? batch.records.indices.map { Batch.Entry(members: $0..<($0 + 1), shard: batch.shardName(of: batch.records[$0])) }
            for (entry, answer) in zip(entries, result.records) {
                let members = batch.records[entry.members]
                if answer.succeeded, let shardID = answer.shardID, let sequenceNumber = answer.sequenceNumber {
                    stats.deliveredKinesisRecords += 1
                    if !entry.isAggregate {
                        let record = members[members.startIndex]
                        // Landing on the predicted shard proves the map right (a shard's range never changes).
                        if shardID != batch.shardName(of: record), let map, !map.owns(shardID, record.hash) { refreshRequested = true }
                        deliver(record, shardID: shardID, sequenceNumber: sequenceNumber, subSequence: nil, now: now, into: &effects)
                    } else if shardID == entry.shard {
                        // The predicted shard owns every member (shards never change their range).
                        for (index, record) in members.enumerated() {
                            deliver(record, shardID: shardID, sequenceNumber: sequenceNumber, subSequence: index, now: now, into: &effects)
                        }
                    } else {
                        refreshRequested = true
                        let aggregate = LandedAggregate(shardID: shardID, sequenceNumber: sequenceNumber, members: Array(members))
                        settle(aggregate, now: now, waitIfUnknown: true, into: &effects)
                    }
                } else {
                    let code = KinesisError.Code(rawValue: answer.errorCode ?? "InternalFailure")
                    let error = KinesisError(
                        code: code,
                        message: answer.errorMessage ?? "",
                        operation: "PutRecords",
                        httpStatus: 200,
                        retryClass: code == .provisionedThroughputExceeded ? .throttled : .transient
                    )
                    if error.retryClass == .throttled {
                        stats.throttled += members.count
                        tally.throttledRecords[code.rawValue, default: 0] += members.count
                        // Without a prediction (no shard map yet) the shard Kinesis names in its message is counted.
                        let shard = entry.shard ?? Self.throttledShard(in: error.message)
                        if limits.countsPerShard, let shard { tally.throttledByShard[shard, default: 0] += members.count }
                    } else {
                        tally.failedAttempts[code.rawValue, default: 0] += members.count
                    }
                    // Members of an aggregate come back together, to be packed together again.
                    let notBefore = entry.isAggregate
                        ? now + backoffDelay(afterAttempt: members.map(\.attempts).max() ?? 1)
                        : nil
                    for record in members { retry(record, after: error, now: now, notBefore: notBefore, into: &effects) }
                }
            }
        case .failure(let error):
            tally.requestErrors[error.code.rawValue, default: 0] += 1
            if Self.isStreamFatal(error) {
                terminate(
                    ProducerError(.streamUnusable, message: "Kinesis refused the stream: \(error.code): \(error.message)", kinesisError: error),
                    also: batch.records,
                    into: &effects
                )
            } else if error.retryClass.isRetryable {
                concurrencyLimit = max(1, concurrencyLimit / 2)
                if error.retryClass == .throttled {
                    stats.throttled += batch.records.count
                    tally.throttledRecords[error.code.rawValue, default: 0] += batch.records.count
                }
                for record in batch.records { retry(record, after: error, now: now, into: &effects) }
            } else {
                for record in batch.records {
                    fail(record, ProducerError(
                        .rejected,
                        message: "Kinesis rejected the request carrying record '\(record.record.partitionKey)': \(error.code): \(error.message)",
                        attempts: record.attempts,
                        kinesisError: error
                    ), into: &effects)
                }
            }
        }
        admitWaiters(into: &effects)
        return effects
    }

    private mutating func deliver(
        _ record: PendingRecord,
        shardID: String,
        sequenceNumber: String,
        subSequence: Int?,
        now: ContinuousClock.Instant,
        into effects: inout Effects
    ) {
        if record.holdsKey {
            var record = record
            releaseKey(&record)
        }
        stats.delivered += 1
        stats.deliveredBytes += record.size
        if subSequence != nil { stats.aggregated += 1 }
        if record.attempts > 1 { stats.recovered += 1 }
        if collectsLatencies { effects.latencies.append(now - record.acceptedAt) }
        if limits.countsPerShard { tally.deliveredByShard[shardID, default: 0] += 1 }
        if !reportsHandlerDeliveries, case .handler = record.completion { return }
        effects.outcomes.append(Outcome(
            record: record,
            result: .success(PutResult(
                shardID: shardID,
                sequenceNumber: sequenceNumber,
                subSequenceNumber: subSequence,
                attempts: record.attempts,
                latency: now - record.acceptedAt
            ))
        ))
    }

    /// Delivers an aggregate stored on an unexpected shard if that shard owns all of its records; else packs them
    /// again under the current map (the KCL drops such an aggregate whole, so nothing is duplicated for it). While
    /// the map does not know the shard, waits for the next map when `waitIfUnknown`, else resends.
    private mutating func settle(_ aggregate: LandedAggregate, now: ContinuousClock.Instant, waitIfUnknown: Bool, into effects: inout Effects) {
        guard let range = map?.range(of: aggregate.shardID) else {
            if waitIfUnknown {
                landed.append(aggregate)
            } else {
                resend(aggregate.members, now: now)
            }
            return
        }
        guard aggregate.members.allSatisfy({ range.contains($0.hash) }) else {
            resend(aggregate.members, now: now)
            return
        }
        for (index, record) in aggregate.members.enumerated() {
            deliver(record, shardID: aggregate.shardID, sequenceNumber: aggregate.sequenceNumber, subSequence: index, now: now, into: &effects)
        }
    }

    private mutating func resend(_ members: [PendingRecord], now: ContinuousClock.Instant) {
        stats.reaggregated += members.count
        for var record in members {
            record.notBefore = now
            bufferedBytes += record.size
            backoff.append(record)
        }
    }

    /// The shard in Kinesis's per-record throttle message, "Rate exceeded for shard shardId-… in stream … under
    /// account …"; `nil` when the message does not have that form.
    static func throttledShard(in message: String) -> String? {
        guard let marker = message.firstRange(of: "for shard ") else { return nil }
        let shard = message[marker.upperBound...].prefix { $0 != " " }
        return shard.isEmpty ? nil : String(shard)
    }

    /// Errors after which no PutRecords to this stream can succeed: stop instead of spinning until the TTL.
    static func isStreamFatal(_ error: KinesisError) -> Bool {
        if error.code == .credentials || error.code == .resourceNotFound || error.code == .accessDenied { return true }
        let codes: Set<String> = [
            "UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignatureException",
            "MissingAuthenticationTokenException", "InvalidClientTokenId", "SignatureDoesNotMatch", "AccessDenied",
            "KMSDisabledException", "KMSInvalidStateException", "KMSAccessDeniedException", "KMSNotFoundException",
            "KMSOptInRequired", "ExpiredTokenException",
        ]
        return codes.contains(error.code.rawValue)
    }

    private mutating func retry(
        _ record: PendingRecord,
        after error: KinesisError,
        now: ContinuousClock.Instant,
        notBefore sharedNotBefore: ContinuousClock.Instant? = nil,
        into effects: inout Effects
    ) {
        var record = record
        record.lastError = error
        if let maxAttempts = limits.maxAttempts, record.attempts >= maxAttempts {
            fail(record, ProducerError(
                .attemptsExhausted,
                message: "record '\(record.record.partitionKey)' failed \(record.attempts) attempts; last error: \(error.code): \(error.message)",
                attempts: record.attempts,
                kinesisError: error
            ), into: &effects)
            return
        }
        let notBefore = sharedNotBefore ?? now + backoffDelay(afterAttempt: record.attempts)
        if let deadline = record.deadline, notBefore >= deadline {
            fail(record, ProducerError(
                .expired,
                message: "record '\(record.record.partitionKey)' ran out of time to live while retrying; last error: \(error.code): \(error.message)",
                attempts: record.attempts,
                kinesisError: error
            ), into: &effects)
            return
        }
        if case .draining(let deadline) = phase, notBefore >= deadline {
            fail(record, ProducerError(
                .shutdown,
                message: "shutdown deadline comes before record '\(record.record.partitionKey)' could be retried; last error: \(error.code): \(error.message)",
                attempts: record.attempts,
                kinesisError: error
            ), into: &effects)
            return
        }
        record.notBefore = notBefore
        bufferedBytes += record.size
        backoff.append(record)
    }

    /// The wait before a record's next attempt.
    private mutating func backoffDelay(afterAttempt attempt: Int) -> Duration {
        limits.retryBackoff.delay(afterAttempt: attempt, using: &jitter)
    }

    private mutating func fail(_ record: PendingRecord, _ error: ProducerError, into effects: inout Effects) {
        var record = record
        let heldKey = record.holdsKey
        headLeft(&record)
        // A record that held its key frees the next one here; unparking again would move a second record ahead
        // of the first.
        releaseKey(&record)
        // A key head that expired before being sent (it held no key) frees its key's next record.
        if limits.ordered && !heldKey { unpark(record.orderingKey) }
        stats.failed += 1
        if error.code == .expired { tally.expired += 1 }
        effects.outcomes.append(Outcome(record: record, result: .failure(error)))
    }

    /// The stream cannot be written: fail this batch, everything buffered and everyone waiting; refuse new records.
    private mutating func terminate(_ error: ProducerError, also batch: [PendingRecord], into effects: inout Effects) {
        if terminal == nil { terminal = error }
        for record in batch { fail(record, withAttempts(error, record), into: &effects) }
        failBuffered(error, into: &effects)
    }

    private func withAttempts(_ error: ProducerError, _ record: PendingRecord) -> ProducerError {
        var error = error
        error.attempts = record.attempts
        return error
    }

    private mutating func failBuffered(_ error: ProducerError, into effects: inout Effects) {
        // Parked records first out, so failing their keys' busy records cannot move them back.
        let parkedRecords = parked.values.flatMap { $0 }
        parked = [:]
        parkedCount = 0
        for record in ready + backoff + parkedRecords { fail(record, withAttempts(error, record), into: &effects) }
        for aggregate in landed {
            var unverified = error
            unverified.message += "; it was stored in an aggregate on shard \(aggregate.shardID) (sequence number \(aggregate.sequenceNumber)) that may not own its hash key, and a KCL consumer drops such an aggregate"
            for record in aggregate.members { fail(record, withAttempts(unverified, record), into: &effects) }
        }
        ready.removeAll()
        backoff.removeAll()
        landed.removeAll()
        readyBytes = 0
        bufferedBytes = 0
        while let waiter = waiters.popFirst() {
            stats.rejected += 1
            if let resume = waiter.resume {
                effects.refused.append((resume, error))
            } else {
                effects.outcomes.append(Outcome(record: waiter.record, result: .failure(error)))
            }
        }
    }

    // MARK: Shutdown

    /// Stops intake and refuses everyone waiting; what is buffered is still flushed until `deadline`.
    mutating func beginDrain(deadline: ContinuousClock.Instant) -> Effects {
        var effects = Effects()
        guard case .accepting = phase else { return effects }
        phase = .draining(deadline: deadline)
        let error = ProducerError(.shutdown, message: "the runner is shutting down")
        while let waiter = waiters.popFirst() {
            stats.rejected += 1
            if let resume = waiter.resume {
                effects.refused.append((resume, error))
            } else {
                effects.outcomes.append(Outcome(record: waiter.record, result: .failure(error)))
            }
        }
        return effects
    }

    /// The drain deadline passed: everything still buffered fails with `shutdown`.
    mutating func abandonBuffered() -> Effects {
        var effects = Effects()
        // After a stream-fatal error, records that were in flight then and came back for a retry fail with it too.
        failBuffered(terminal ?? ProducerError(.shutdown, message: "shutdown deadline passed before the record could be delivered"), into: &effects)
        return effects
    }

    mutating func finish() -> Effects {
        var effects = beginDrain(deadline: .now)
        effects.merge(abandonBuffered())
        phase = .finished
        return effects
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
        let oldestReady = ready.first?.acceptedAt
        let oldestBackoff = (backoff.map(\.acceptedAt) + parked.values.compactMap { $0.first?.acceptedAt }).min()
        switch (oldestReady, oldestBackoff) {
        case (let a?, let b?): return min(a, b)
        case (let a?, nil): return a
        case (nil, let b?): return b
        case (nil, nil): return nil
        }
    }

    /// The earliest time a backing-off record becomes due, for the run loop's sleep.
    var nextRetryDue: ContinuousClock.Instant? {
        backoff.compactMap(\.notBefore).min()
    }

    var hasReadyRecords: Bool { !ready.isEmpty }
}
