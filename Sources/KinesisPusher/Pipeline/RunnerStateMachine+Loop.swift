extension RunnerStateMachine {
    /// What the run loop does next.
    enum LoopAction {
        /// Send this batch (and ask again).
        case send(Batch)
        /// List the stream's shards (and ask again).
        case refreshShards
        /// Nothing to do before this instant, or before a record, an answer or a map arrives when `nil`.
        case wait(until: ContinuousClock.Instant?)
        /// The loop ends.
        case stop(StopReason)
    }

    enum StopReason {
        /// Draining and everything has an outcome.
        case drained
        /// The shutdown deadline passed; what was left has failed.
        case deadlinePassed(buffered: Int)
        /// Kinesis refused the stream; everything held has failed with this.
        case streamUnusable(RunnerError)
        /// ``finish()`` came first (shutdown before run).
        case finished
    }

    /// The run loop's one question per pass, asked under one lock: what now?
    mutating func nextAction(now: ContinuousClock.Instant) -> (LoopAction, Effects) {
        switch phase {
        case .finished:
            return (.stop(.finished), Effects())
        case .draining(let deadline) where now >= deadline:
            // Checked before any new batch, so a steady stream of sendable batches cannot hold the shutdown past it.
            let buffered = bufferedCount
            return (.stop(.deadlinePassed(buffered: buffered)), abandonBuffered())
        case .streamUnusable(let error):
            return (.stop(.streamUnusable(error)), Effects())
        case .accepting, .draining:
            break
        }
        if startRefreshIfDue(now: now) { return (.refreshShards, Effects()) }
        let (pick, effects) = pickBatch(now: now)
        let due: ContinuousClock.Instant?
        switch pick {
        case .taken(let batch): return (.send(batch), effects)
        case .notDue(let until): due = until  // worked out just now: not again for the wake-up
        case .tookNothing: due = batchDue(now: now)
        }
        if isDraining, isIdle { return (.stop(.drained), effects) }
        return (.wait(until: nextWake(now: now, batchDue: due)), effects)
    }

    /// The earliest of: the next batch's due time, the next retry, a buffered record's expiry, the shard refresh and
    /// the shutdown deadline. Never `now` or earlier: a batch that was due but could not be taken (its records
    /// parked, say) is asked for again a millisecond later instead of at once.
    func nextWake(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        nextWake(now: now, batchDue: batchDue(now: now))
    }

    /// ``nextWake(now:)`` with the batch's due time already known.
    private func nextWake(now: ContinuousClock.Instant, batchDue: ContinuousClock.Instant?) -> ContinuousClock.Instant? {
        var earliest: ContinuousClock.Instant?
        func consider(_ instant: ContinuousClock.Instant?) {
            guard let instant else { return }
            earliest = earliest.map { min($0, instant) } ?? instant
        }
        consider(batchDue)
        consider(retries.nextDue)
        consider(nextExpiry)
        consider(nextRefresh(now: now))
        if case .draining(let deadline) = phase { consider(deadline) }
        return earliest.map { max($0, now + .milliseconds(1)) }
    }
}
