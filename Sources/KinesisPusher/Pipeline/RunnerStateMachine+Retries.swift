import Backoff
import KinesisAPI

extension RunnerStateMachine {
    /// Moves the retries whose backoff is over to the front of their lanes.
    mutating func releaseDueRetries(now: ContinuousClock.Instant) {
        guard let next = retries.nextDue, next <= now else { return }
        let due = retries.popDue(now: now)
        guard limits.ordered else {
            // Retries go ahead of newer records in their lane, oldest first.
            for record in due.sorted(by: { $0.id > $1.id }) { lanes.prepend(record, to: Lanes.lane(of: record.hash, in: map)) }
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

    mutating func retry(
        _ record: PendingRecord,
        after error: KinesisError,
        streamFailing: Bool,
        now: ContinuousClock.Instant,
        notBefore sharedNotBefore: ContinuousClock.Instant? = nil,
        into effects: inout Effects
    ) {
        var record = record
        record.lastError = error
        if streamFailing, record.strikes < .max { record.strikes += 1 }
        let notBefore = sharedNotBefore ?? now + backoffDelay(afterStrikes: record.strikes)
        schedule(record, notBefore: notBefore, why: "\(error.code): \(error.message)", into: &effects)
    }

    /// Puts a record that must go again into the retry queue until `notBefore`, unless it may not: its attempts
    /// are used up, its time to live ends first, or the shutdown deadline does. `why` says what went wrong last.
    mutating func schedule(_ record: PendingRecord, notBefore: ContinuousClock.Instant, why: String, into effects: inout Effects) {
        var record = record
        if let maxAttempts = limits.maxAttempts, record.attempts >= maxAttempts {
            fail(record, RunnerError(
                .attemptsExhausted,
                message: "record '\(record.record.partitionKey)' failed \(record.attempts) attempts; last error: \(why)",
                attempts: record.attempts,
                kinesisError: record.lastError
            ), into: &effects)
            return
        }
        if let deadline = record.deadline, notBefore >= deadline {
            fail(record, RunnerError(
                .expired,
                message: "record '\(record.record.partitionKey)' ran out of time to live while retrying; last error: \(why)",
                attempts: record.attempts,
                kinesisError: record.lastError
            ), into: &effects)
            return
        }
        if case .draining(let deadline) = phase, notBefore >= deadline {
            fail(record, RunnerError(
                .shutdown,
                message: "shutdown deadline comes before record '\(record.record.partitionKey)' could be retried; last error: \(why)",
                attempts: record.attempts,
                kinesisError: record.lastError
            ), into: &effects)
            return
        }
        record.notBefore = notBefore
        bufferedBytes += record.size
        retries.insert(record)
    }

    /// The wait before a record's next attempt: the backoff's after `strikes` failures while the stream was
    /// failing, and its first (at most the base delay) when there were none.
    mutating func backoffDelay(afterStrikes strikes: UInt8) -> Duration {
        limits.retryBackoff.delay(afterAttempt: max(1, Int(strikes)), using: &jitter)
    }

    mutating func fail(_ record: PendingRecord, _ error: RunnerError, into effects: inout Effects) {
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
    mutating func terminate(_ error: RunnerError, also batch: [PendingRecord], into effects: inout Effects) {
        if terminal == nil { phase = .streamUnusable(error) }
        for record in batch { fail(record, withAttempts(error, record), into: &effects) }
        failBuffered(error, into: &effects)
    }

    func withAttempts(_ error: RunnerError, _ record: PendingRecord) -> RunnerError {
        var error = error
        error.attempts = record.attempts
        return error
    }

    mutating func failBuffered(_ error: RunnerError, into effects: inout Effects) {
        // Parked records first out, so failing their keys' busy records cannot move them back.
        let parkedRecords = ordering.removeAllParked()
        for record in lanes.removeAll() + retries.removeAll() + parkedRecords { fail(record, withAttempts(error, record), into: &effects) }
        for aggregate in landed {
            var unverified = error
            unverified.message += "; it was stored in an aggregate on shard \(aggregate.shardID) (sequence number \(aggregate.sequenceNumber)) that may not own its hash key, and a KCL consumer drops such an aggregate"
            for record in aggregate.members { fail(record, withAttempts(unverified, record), into: &effects) }
        }
        landed.removeAll()
        bufferedBytes = 0
        refuseWaiters(error, into: &effects)
    }
}
