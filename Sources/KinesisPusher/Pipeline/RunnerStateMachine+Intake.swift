extension RunnerStateMachine {
    enum OfferResult {
        /// Accepted; `wakesLoop` when the run loop should look now: the record filled a batch, or it is the only
        /// one (the loop then sleeps until its flush deadline).
        case accepted(wakesLoop: Bool)
        case waiting
        case full
        case refused(RunnerError)
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
            return .refused(RunnerError(.shutdown, message: "the runner is shutting down; record '\(record.partitionKey)' was not accepted"))
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
            // Only the record that makes a batch full, or the first one, wakes the run loop: the loop takes batches
            // until none is due and sleeps until the next one is, and every answer wakes it again, so a wake per
            // record after that would be wasted.
            let fullByCount = lanes.count == limits.fullBatchCount
            let fullByBytes = lanes.bytes >= limits.maxRequestBytes && lanes.bytes - pending.size < limits.maxRequestBytes
            return .accepted(wakesLoop: fullByCount || fullByBytes || lanes.count == 1)
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

    func hasRoom(for size: Int) -> Bool {
        guard bufferedCount < limits.bufferSize else { return false }
        if let cap = limits.maxBufferedBytes, bufferedBytes > 0, bufferedBytes + size > cap { return false }
        return true
    }

    mutating func admit(_ pending: PendingRecord) {
        lanes.append(pending, to: lane(for: pending))
        bufferedBytes += pending.size
        stats.sent += 1
    }

    /// The lane a record joins: its predicted shard's, or in ordered mode the one its key's records are in.
    func lane(for record: PendingRecord) -> Int {
        if limits.ordered, let lane = lanes.lane(holding: record.orderingKey) { return lane }
        return Lanes.lane(of: record.hash, in: map)
    }

    /// Moves waiting callers into the buffer while there is room.
    mutating func admitWaiters(into effects: inout Effects) {
        while let first = waiters.first(), hasRoom(for: first.record.size) {
            _ = waiters.popFirst()
            admit(first.record)
            if let resume = first.resume { effects.admitted.append(resume) }
        }
    }

    /// A waiting caller was cancelled: takes it out of the line (its record was never accepted).
    mutating func cancelWaiter(id: UInt64) -> Waiter? {
        waiters.cancel(id: id)
    }

    /// Refuses everyone waiting with `error`.
    mutating func refuseWaiters(_ error: RunnerError, into effects: inout Effects) {
        while let waiter = waiters.popFirst() {
            stats.rejected += 1
            if let resume = waiter.resume {
                effects.refused.append((resume, error))
            } else {
                effects.outcomes.append(Outcome(record: waiter.record, result: .failure(error)))
            }
        }
    }
}

extension RunnerStateMachine.Limits {
    /// User records that make a batch full: a request's worth; with aggregation what one call packs from the
    /// buffer (up to half the buffer, kept moderate: they are packed under the lock that senders wait on).
    var fullBatchCount: Int {
        aggregation == nil
            ? maxRecordsPerRequest
            : max(maxRecordsPerRequest, min(bufferSize / 2, RunnerStateMachine.aggregatedRecordsPerCall))
    }
}
