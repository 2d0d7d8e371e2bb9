import KinesisAPI

extension RunnerStateMachine {
    /// Handles the answer to a batch: successes complete, failed entries retry with backoff (or fail for good),
    /// request-level errors apply to the whole batch.
    mutating func complete(_ batch: Batch, with answer: Result<PutRecordsOutcomes, KinesisError>, now: ContinuousClock.Instant) -> Effects {
        inFlightRequests -= 1
        limiter.observe(batch, answer: answer, now: now)  // the rate signal: attempted and throttled per shard
        var effects = Effects()
        switch answer {
        case .success(let result):
            calls.callSucceeded()
            let failing = Self.streamWasFailing(result)
            batch.forEachEntry { position, range, isAggregate, predictedShard in
                guard position < result.count else { return }
                // Records are passed on from the batch as they are, not copied out of it (a retain and a release each).
                if result.succeeded(at: position), let shardID = result.shardID(at: position) {
                    // A String only for callers that get the sequence number (succeeded: it is there).
                    let sequenceNumber = { result.sequenceNumber(at: position) ?? "" }
                    stats.deliveredKinesisRecords += 1
                    if !isAggregate {
                        // Landing on the predicted shard proves the map right (a shard's range never changes).
                        if shardID != predictedShard, let map, !map.owns(shardID, batch.records[range.lowerBound].hash) { refreshRequested = true }
                        deliver(batch.records[range.lowerBound], shardID: shardID, sequenceNumber: sequenceNumber(), subSequence: nil, now: now, into: &effects)
                    } else if shardID == predictedShard {
                        // The predicted shard owns every member (shards never change their range).
                        for index in range {
                            deliver(
                                batch.records[index], shardID: shardID, sequenceNumber: sequenceNumber(), subSequence: index - range.lowerBound,
                                now: now, into: &effects
                            )
                        }
                    } else {
                        refreshRequested = true
                        let aggregate = LandedAggregate(shardID: shardID, sequenceNumber: sequenceNumber(), members: Array(batch.records[range]))
                        settle(aggregate, now: now, waitIfUnknown: true, into: &effects)
                    }
                } else {
                    let members = batch.records[range]
                    let code = KinesisError.Code(rawValue: result.errorCode(at: position) ?? "InternalFailure")
                    let error = KinesisError(
                        code: code,
                        message: result.errorMessage(at: position) ?? "",
                        operation: "PutRecords",
                        httpStatus: 200,
                        retryClass: code == .provisionedThroughputExceeded ? .throttled : .transient
                    )
                    if error.retryClass == .throttled {
                        stats.throttled += members.count
                        tally.throttledRecords[RunnerMetrics.errorCodeLabel(code.rawValue), default: 0] += members.count
                        // Without a prediction the shard Kinesis names in its message is counted (as `other` unless
                        // a shard map listed it).
                        let shard = predictedShard ?? Self.throttledShard(in: error.message)
                        if limits.countsPerShard, let shard { tally.throttledByShard[shardLabel(shard), default: 0] += members.count }
                    } else {
                        tally.failedAttempts[RunnerMetrics.errorCodeLabel(code.rawValue), default: 0] += members.count
                    }
                    // Members of an aggregate come back together, to be packed together again.
                    let strikes = members.map(\.strikes).max() ?? 0
                    let notBefore = isAggregate
                        ? now + backoffDelay(afterStrikes: failing && strikes < .max ? strikes + 1 : strikes)
                        : nil
                    for record in members {
                        retry(record, after: error, streamFailing: failing, now: now, notBefore: notBefore, into: &effects)
                    }
                }
            }
        case .failure(let error):
            tally.requestErrors[RunnerMetrics.errorCodeLabel(error.code.rawValue), default: 0] += 1
            if error.stopsStream {
                terminate(
                    RunnerError(.streamUnusable, message: "Kinesis refused the stream: \(error.code): \(error.message)", kinesisError: error),
                    also: batch.records,
                    into: &effects
                )
            } else if error.retryClass.isRetryable {
                calls.callFailed()
                if error.retryClass == .throttled {
                    stats.throttled += batch.records.count
                    tally.throttledRecords[RunnerMetrics.errorCodeLabel(error.code.rawValue), default: 0] += batch.records.count
                }
                for record in batch.records { retry(record, after: error, streamFailing: true, now: now, into: &effects) }
            } else {
                for record in batch.records {
                    fail(record, RunnerError(
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

    mutating func deliver(
        _ record: PendingRecord,
        shardID: String,
        sequenceNumber: @autoclosure () -> String,
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
        if limits.countsPerShard { tally.deliveredByShard[shardLabel(shardID), default: 0] += 1 }
        if !reportsHandlerDeliveries, case .handler = record.completion { return }
        effects.outcomes.append(Outcome(
            record: record,
            result: .success(PutResult(
                shardID: shardID,
                sequenceNumber: sequenceNumber(),
                subSequenceNumber: subSequence,
                attempts: record.attempts,
                latency: now - record.acceptedAt
            ))
        ))
    }

    /// Delivers an aggregate stored on an unexpected shard if that shard owns all of its records; else packs them
    /// again under the current map (the KCL drops such an aggregate whole, so nothing is duplicated for it). While
    /// the map does not know the shard, waits for the next map when `waitIfUnknown`, else resends.
    mutating func settle(_ aggregate: LandedAggregate, now: ContinuousClock.Instant, waitIfUnknown: Bool, into effects: inout Effects) {
        switch aggregate.verdict(in: map) {
        case .unknownShard where waitIfUnknown:
            landed.append(aggregate)
        case .unknownShard, .resend:
            resend(aggregate, now: now, into: &effects)
        case .deliver:
            for (index, record) in aggregate.members.enumerated() {
                deliver(record, shardID: aggregate.shardID, sequenceNumber: aggregate.sequenceNumber, subSequence: index, now: now, into: &effects)
            }
        }
    }

    /// Packs an aggregate's records again (each counts the attempt it took, and gives up like any retry when its
    /// attempts or time to live are used up).
    mutating func resend(_ aggregate: LandedAggregate, now: ContinuousClock.Instant, into effects: inout Effects) {
        stats.reaggregated += aggregate.members.count
        let why = "stored in an aggregate on shard \(aggregate.shardID) that does not own all of its records"
        for record in aggregate.members { schedule(record, notBefore: now, why: why, into: &effects) }
    }

    /// Whether an answer shows the stream failing rather than a few records: at least half of the call's
    /// records failed. Only then does a failed record's backoff grow. Records failing alone among deliveries
    /// (random throttles, a shard's InternalFailure) wait at most the base delay, as the rest of the stream is
    /// taking records: growing their waits only drags out the end of a push (with 25 % of attempts failing,
    /// one record in a thousand fails five times in a row and would wait seconds), and the rate limiter,
    /// not the backoff, paces a shard that throttles. A request refused whole always counts.
    static func streamWasFailing(_ result: PutRecordsOutcomes) -> Bool {
        result.failedEntryCount * 2 >= result.count
    }

    /// The metric label of a shard an answer named: itself when a shard map listed it, otherwise `other`.
    func shardLabel(_ shardID: String) -> String {
        RunnerMetrics.shardLabel(shardID) { shardNumbers[$0] != nil }
    }

    /// The shard in Kinesis's per-record throttle message, "Rate exceeded for shard shardId-… in stream … under
    /// account …"; `nil` when the message does not have that form.
    static func throttledShard(in message: String) -> String? {
        guard let marker = message.firstRange(of: "for shard ") else { return nil }
        let shard = message[marker.upperBound...].prefix { $0 != " " }
        return shard.isEmpty ? nil : String(shard)
    }

}
