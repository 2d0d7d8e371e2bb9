import KinesisAPI
import KinesisAggregation

extension RunnerStateMachine {
    /// User records looked at for one aggregated call: about 450 KB of 100-byte records, a few milliseconds under
    /// the lock.
    static let aggregatedRecordsPerCall = 4096

    /// The longest a paced producer saves up its budget for one call: a full call sooner if the budgets allow,
    /// else what they refill in this long. Shorter spreads a shared shard's load (several producers' calls land
    /// on it at once); longer makes fewer, larger calls.
    static let pacedCallInterval = 0.1

    /// What looking for the next batch found.
    enum BatchPick {
        case taken(Batch)
        /// None is due before this instant (`nil`: no lane holds a record, or every call slot is taken); nothing
        /// was taken, so the instant still holds.
        case notDue(until: ContinuousClock.Instant?)
        /// One was due but the lanes gave nothing (their records parked, say): the due time must be asked again.
        case tookNothing
    }

    /// Picks the next PutRecords batch if one is due (see ``batchDue(now:)``), taking from the lanes whose shard
    /// has budget; the others are not touched.
    mutating func nextBatch(now: ContinuousClock.Instant) -> (Batch?, Effects) {
        let (pick, effects) = pickBatch(now: now)
        guard case .taken(let batch) = pick else { return (nil, effects) }
        return (batch, effects)
    }

    mutating func pickBatch(now: ContinuousClock.Instant) -> (BatchPick, Effects) {
        var effects = Effects()
        releaseDueRetries(now: now)
        expireFronts(now: now, into: &effects)
        let due = batchDue(now: now)
        guard let due, due <= now else { return (.notDue(until: due), effects) }
        let batch: Batch?
        if let aggregation = limits.aggregation, let map {
            batch = takeAggregated(aggregation, map: map, now: now)
        } else {
            batch = takeRaw(now: now)
        }
        guard let batch else { return (.tookNothing, effects) }
        laneRotation &+= 1
        inFlightRequests += 1
        stats.requests += 1
        admitWaiters(into: &effects)
        return (.taken(batch), effects)
    }

    /// When the next batch may go; `nil` while no lane holds a record or every call slot is taken (a record or an
    /// answer wakes the loop then).
    ///
    /// A batch is due once it is full (records or bytes), its oldest record has waited a flush interval (a retry
    /// at once), or the runner is draining. While the limiter paces, a due batch waits further until the budget
    /// lets a full one go, so a shard's budget goes out in a few large calls instead of many small ones.
    func batchDue(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        guard !lanes.isEmpty, inFlightRequests < calls.allowed else { return nil }
        // With aggregation on, records wait for the shard map (listed at start, within the flush interval as a rule)
        // rather than go out one Kinesis record each because the buffer filled first.
        let awaitsMap = limits.aggregation != nil && map == nil
        let full = !awaitsMap && (lanes.count >= limits.fullBatchCount || lanes.bytes >= limits.maxRequestBytes)
        if !full, !isDraining {
            var oldest: ContinuousClock.Instant?
            for lane in lanes.lanes {
                guard let first = lane.records.first else { continue }
                let due = first.attempts > 0 ? now : first.acceptedAt + limits.flushInterval
                oldest = oldest.map { min($0, due) } ?? due
            }
            if let oldest, oldest > now { return oldest }
        }
        return fullBatchPaced(now: now)
    }

    /// The earliest instant at which the lanes' budgets let a full batch go: as many records as one call takes
    /// or as are waiting, but no more than the budgets refill in the time a full call takes at the full rate,
    /// and at most ``pacedCallInterval``. So a producer alone on 4 shards at 100 % sends a call of 400 records
    /// every 100 ms (5 shards or more: full calls of 500), and one whose budgets shrank (sharing the stream,
    /// throttled) keeps the cadence with smaller calls instead of saving up bursts that land on the shard at once.
    private func fullBatchPaced(now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        guard limiter.isEnabled else { return now }
        let aggregated = limits.aggregation != nil && map != nil
        let aggregateSize = Double(min(limits.aggregation?.maxSize ?? 0, maxRecordBytes))
        /// A lane's records and, when its shard has a budget, what the budget lets through.
        struct Supply {
            var count: Int
            var size: Double
            var forecast: RateLimiter.Forecast?
        }
        var supplies: [Supply] = []
        var fullRate = 0.0
        for lane in lanes.occupied {
            let count = lanes.count(in: lane)
            let size = Double(lanes.bytes(in: lane)) / Double(count)
            let forecast = limiter.forecast(shard: shardID(ofLane: lane), now: now)
            if let forecast {
                let byBytes = forecast.bytesPerSecond / size
                let rate = aggregated ? byBytes : min(forecast.recordsPerSecond, byBytes)
                fullRate += rate / forecast.factor
            }
            supplies.append(Supply(count: count, size: size, forecast: forecast))
        }
        guard fullRate > 0 else { return now }
        let period = min(Self.pacedCallInterval, Double(limits.fullBatchCount) / fullRate)
        let maxBytes = Double(limits.maxRequestBytes)
        // Records the lanes can send after `seconds` more of refill (or, for `nil`, what `period` of refill gives
        // an empty budget), counted up to a full call.
        func sendable(after seconds: Double?) -> Int {
            var total = 0
            var bytes = 0.0
            for supply in supplies {
                var count = supply.count
                if let forecast = supply.forecast {
                    let recordTokens = seconds.map(forecast.records(after:)) ?? min(forecast.recordCapacity, forecast.recordsPerSecond * period)
                    let byteTokens = seconds.map(forecast.bytes(after:)) ?? min(forecast.byteCapacity, forecast.bytesPerSecond * period)
                    // A record larger than the bucket passes on a full one.
                    let byBytes = Int(byteTokens / min(supply.size, forecast.byteCapacity))
                    // An aggregate costs one record token and carries what fits its size.
                    let byRecords = aggregated ? Int(max(1, recordTokens)) * max(1, Int(aggregateSize / supply.size)) : Int(recordTokens)
                    count = max(0, min(count, byBytes, byRecords))
                }
                total += count
                bytes += Double(count) * supply.size
            }
            return bytes > maxBytes ? Int(Double(total) * maxBytes / bytes) : total
        }
        let target = max(1, min(limits.fullBatchCount, sendable(after: nil)))
        guard sendable(after: 0) < target else { return now }
        // Every budget is full after its burst, so the answer lies within one burst.
        var low = 0.0
        var high = RateLimiter.burstSeconds
        for _ in 0..<16 {
            let mid = (low + high) / 2
            if sendable(after: mid) >= target { high = mid } else { low = mid }
        }
        return now + .nanoseconds(Int64((high * 1e9).rounded(.up)))
    }

    /// The shard lane `lane` stands for; `nil` for the stream-wide lane.
    func shardID(ofLane lane: Int) -> String? {
        guard let map, lane < map.count else { return nil }
        return map.entries[lane].shardID
    }

    /// The lane of the shard `record`'s hash predicts: the lane it waits in, except in ordered mode for a record
    /// whose explicit hash key differs from its key's earlier records' (it waits with them).
    private func predictedLane(of record: PendingRecord, waitingIn lane: Int) -> Int {
        guard limits.ordered, record.record.explicitHashKey != nil else { return lane }
        return Lanes.lane(of: record.hash, in: map)
    }

    /// The lanes in this batch's order: starting one further each batch.
    private func rotatedLanes() -> [Int] {
        let occupied = lanes.occupied
        guard occupied.count > 1 else { return occupied }
        let start = laneRotation % occupied.count
        return Array(occupied[start...] + occupied[..<start])
    }

    /// One Kinesis record per user record, lane by lane, each lane while its shard has budget.
    private mutating func takeRaw(now: ContinuousClock.Instant) -> Batch? {
        var batch: [PendingRecord] = []
        batch.reserveCapacity(min(limits.maxRecordsPerRequest, lanes.count))
        var bytes = 0
        // Ordered mode: keys already in this call (a call carries one record per key).
        var takenKeys: Set<Int> = []
        lanes: for lane in rotatedLanes() {
            var budget = limiter.draw(shard: shardID(ofLane: lane), now: now)
            defer { limiter.finish(budget) }
            // Each record is moved out of its lane (a peek would copy it: a retain and a release per record), and
            // the one that cannot go is put back in front.
            while batch.count < limits.maxRecordsPerRequest, lanes.count(in: lane) > 0 {
                var record = lanes.removeFirst(from: lane)
                if bytes + record.size > limits.maxRequestBytes {
                    lanes.prepend(record, to: lane)
                    break lanes
                }
                if limits.ordered, mustPark(record) || takenKeys.contains(record.orderingKey) {
                    park(record)
                    continue
                }
                let predicted = predictedLane(of: record, waitingIn: lane)
                let granted = predicted == lane
                    ? budget.take(bytes: record.size)
                    : limiter.take(shard: shardID(ofLane: predicted), bytes: record.size, now: now)
                guard granted else {
                    lanes.prepend(record, to: lane)
                    break
                }
                if limits.ordered { takenKeys.insert(record.orderingKey) }
                markSent(&record, lane: predicted)
                bytes += record.size
                batch.append(record)
            }
            if batch.count == limits.maxRecordsPerRequest { break }
        }
        holdKeys(&batch)
        return batch.isEmpty ? nil : Batch(records: batch, shardNames: shardNames, entries: nil, bytes: bytes)
    }

    /// User records packed per predicted shard into aggregates (see ``AggregatingBatch``), lane by lane, each lane
    /// while its shard has budget.
    private mutating func takeAggregated(_ aggregation: RunnerConfiguration.Aggregation, map: ShardMap, now: ContinuousClock.Instant) -> Batch? {
        var builder = AggregatingBatch(
            maxEntries: limits.maxRecordsPerRequest,
            maxBytes: limits.maxRequestBytes,
            maxSize: min(aggregation.maxSize, maxRecordBytes),
            maxCount: aggregation.maxCount,
            ordered: limits.ordered,
            shardCount: map.count
        )
        var taken = 0
        // Ordered mode: keys with a record left out of this call; their later records wait too.
        var closedKeys: Set<Int> = []
        lanes: for lane in rotatedLanes() {
            var budget = limiter.draw(shard: shardID(ofLane: lane), now: now)
            defer { limiter.finish(budget) }
            while taken < Self.aggregatedRecordsPerCall, let record = lanes.first(in: lane) {
                if limits.ordered, mustPark(record) || closedKeys.contains(record.orderingKey) {
                    park(lanes.removeFirst(from: lane))
                    continue
                }
                let predicted = predictedLane(of: record, waitingIn: lane)
                let slot = predicted < map.count ? predicted : nil
                let shard = shardID(ofLane: predicted)
                let placement = builder.placement(for: record, shard: slot)
                let granted: Bool
                switch placement {
                case .full:
                    break lanes
                case .skip:
                    // Ordered mode: its key's Kinesis record in this call is closed; it waits for the key.
                    closedKeys.insert(record.orderingKey)
                    park(lanes.removeFirst(from: lane))
                    continue
                case .join(_, let added, _):
                    granted = predicted == lane
                        ? budget.take(records: 0, bytes: added)
                        : limiter.take(shard: shard, records: 0, bytes: added, now: now)
                case .open(let size, _):
                    granted = predicted == lane
                        ? budget.take(bytes: size)
                        : limiter.take(shard: shard, bytes: size, now: now)
                }
                guard granted else { break }
                var record = lanes.removeFirst(from: lane)
                markSent(&record, lane: predicted)
                builder.place(record, shard: slot, shardID: shard, placement)
                taken += 1
            }
            if taken == Self.aggregatedRecordsPerCall { break }
        }
        guard !builder.isEmpty else { return nil }
        let packed = builder.finish()
        var records = packed.records
        holdKeys(&records)
        return Batch(records: records, shardNames: shardNames, entries: packed.entries, bytes: builder.bytes)
    }

    /// A record leaves its lane for a call.
    private mutating func markSent(_ record: inout PendingRecord, lane: Int) {
        headLeft(&record)
        record.predictedShard = lane < mapShardNumbers.count ? mapShardNumbers[lane] : -1
        record.attempts += 1
        if record.attempts > 1 { stats.retries += 1 }
        bufferedBytes -= record.size
    }

    /// Fails the records at the lanes' fronts whose time to live is over. Only fronts need checking: records
    /// behind were accepted later (retries carry their own deadline and are checked when scheduled).
    mutating func expireFronts(now: ContinuousClock.Instant, into effects: inout Effects) {
        guard limits.recordTTL != nil else { return }
        for lane in lanes.occupied {
            while let first = lanes.first(in: lane), let deadline = first.deadline, deadline <= now {
                _ = lanes.removeFirst(from: lane)
                bufferedBytes -= first.size
                fail(first, RunnerError(
                    .expired,
                    message: "record '\(first.record.partitionKey)' was not delivered within its time to live"
                        + (first.lastError.map { "; last error: \($0.code): \($0.message)" } ?? ""),
                    attempts: first.attempts,
                    kinesisError: first.lastError
                ), into: &effects)
            }
        }
        // Records out of the lanes expire too: parked behind their key's busy record, or in an aggregate stored on
        // a shard the map does not know yet (waiting for a refresh that may not come, say during an outage).
        for record in ordering.removeExpired(now: now) {
            bufferedBytes -= record.size
            fail(record, RunnerError(
                .expired,
                message: "record '\(record.record.partitionKey)' was not delivered within its time to live (it waited behind an "
                    + "earlier record of its partition key)" + (record.lastError.map { "; last error: \($0.code): \($0.message)" } ?? ""),
                attempts: record.attempts,
                kinesisError: record.lastError
            ), into: &effects)
        }
        if landedDeadline.map({ $0 <= now }) == true {
            let expired = landed.filter { $0.deadline.map { $0 <= now } == true }
            landed.removeAll { $0.deadline.map { $0 <= now } == true }
            for aggregate in expired {
                for record in aggregate.members {
                    fail(record, RunnerError(
                        .expired,
                        message: "record '\(record.record.partitionKey)' was stored in an aggregate on shard \(aggregate.shardID) (sequence "
                            + "number \(aggregate.sequenceNumber)) that may not own its hash key (a KCL consumer drops such an "
                            + "aggregate), and its time to live ended before a shard map could tell",
                        attempts: record.attempts
                    ), into: &effects)
                }
            }
        }
        admitWaiters(into: &effects)
    }

    /// The earliest deadline of the aggregates waiting for a shard map.
    private var landedDeadline: ContinuousClock.Instant? {
        landed.compactMap(\.deadline).min()
    }

    /// The earliest time a buffered record expires: a lane's front, a parked record, a landed aggregate's member.
    var nextExpiry: ContinuousClock.Instant? {
        guard limits.recordTTL != nil else { return nil }
        let fronts = lanes.lanes.compactMap { $0.records.first?.deadline }.min()
        return [fronts, ordering.earliestDeadline, landedDeadline].compactMap { $0 }.min()
    }
}
