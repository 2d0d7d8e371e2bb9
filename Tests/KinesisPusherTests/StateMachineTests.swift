import KinesisAPI
import Testing
import TestSupport

@testable import KinesisPusher

/// The producer's decisions without I/O or a clock: intake, batches, answers, retries, shutdown.
@Suite("RunnerStateMachine")
struct StateMachineTests {
    static let t0 = ContinuousClock.now

    static func machine(
        rateLimitPercent: Double? = nil,
        _ change: (inout RunnerConfiguration) -> Void = { _ in }
    ) -> RunnerStateMachine {
        var configuration = RunnerConfiguration(buffer: .init(size: 1000), concurrency: .init(maxConcurrentPuts: 10))
        change(&configuration)
        return RunnerStateMachine(limits: .init(configuration), rateLimitPercent: rateLimitPercent)
    }

    static func record(_ index: Int, dataBytes: Int = 8) -> Record {
        Record(data: [UInt8](repeating: 7, count: dataBytes), partitionKey: "k\(index)")
    }

    @Test("offer admits up to bufferSize, then trySend gets .full and send/put wait")
    func offerAndBackpressure() {
        var m = Self.machine { $0.buffer.size = 3 }
        for i in 0..<3 {
            guard case .accepted(let ready) = m.offerTest(Self.record(i), now: Self.t0) else {
                Issue.record("record \(i) not accepted")
                return
            }
            #expect(ready == (i == 0))  // only the first wakes the loop, to sleep until its flush deadline
        }
        #expect(m.offerTest(Self.record(3), now: Self.t0).isFull)
        #expect(m.offerTest(Self.record(4), mayWait: true, now: Self.t0).isWaiting)
        #expect(m.stats.sent == 3)
        #expect(m.stats.rejected == 1)
        #expect(m.bufferedCount == 3)
        #expect(!m.isIdle)
    }

    @Test("the byte cap holds records back too (but always lets one in)")
    func byteCap() {
        var m = Self.machine { $0.buffer.maxBytes = 100 }
        #expect(m.offerTest(Self.record(0, dataBytes: 500), now: Self.t0).isAccepted)  // alone: admitted
        #expect(m.offerTest(Self.record(1, dataBytes: 1), now: Self.t0).isFull)
    }

    @Test("waiters are admitted first in, first out; a newcomer queues behind them even when there is room")
    func waitersFIFO() {
        var m = Self.machine { $0.buffer.size = 2 }
        var ids: [String: UInt64] = [:]
        for name in ["a", "b", "c", "d", "e"] {
            let (id, result) = m.offerTestWithID(Record(text: name, partitionKey: name), mayWait: true, now: Self.t0)
            ids[name] = id
            #expect(result.isAccepted == (name == "a" || name == "b"))
        }
        let (first, effects1) = m.nextBatch(now: Self.t0 + .milliseconds(100))
        #expect(first?.records.map(\.record.partitionKey) == ["a", "b"])
        #expect(effects1.outcomes.isEmpty)
        // c and d moved into the buffer when a and b left it; e still waits.
        #expect(m.bufferedCount == 2)
        // f finds room? No: e is first in line.
        #expect(m.offerTest(Record(text: "f", partitionKey: "f"), mayWait: true, now: Self.t0).isWaiting)
        _ = m.complete(first!, with: .success(Self.allSucceeded(first!)), now: Self.t0 + .milliseconds(101))
        let (second, _) = m.nextBatch(now: Self.t0 + .milliseconds(200))
        #expect(second?.records.map(\.record.partitionKey) == ["c", "d"])
        _ = m.complete(second!, with: .success(Self.allSucceeded(second!)), now: Self.t0 + .milliseconds(201))
        let (third, _) = m.nextBatch(now: Self.t0 + .milliseconds(300))
        #expect(third?.records.map(\.record.partitionKey) == ["e", "f"])
        #expect(m.stats.sent == 6)
    }

    @Test("cancelWaiter takes exactly that caller out of the line")
    func cancelWaiter() {
        var m = Self.machine { $0.buffer.size = 1 }
        _ = m.offerTest(Record(text: "a", partitionKey: "a"), now: Self.t0)
        let (idB, _) = m.offerTestWithID(Record(text: "b", partitionKey: "b"), mayWait: true, now: Self.t0)
        let (idC, _) = m.offerTestWithID(Record(text: "c", partitionKey: "c"), mayWait: true, now: Self.t0)
        let (idD, _) = m.offerTestWithID(Record(text: "d", partitionKey: "d"), mayWait: true, now: Self.t0)
        #expect(m.cancelWaiter(id: idC)?.record.record.partitionKey == "c")
        #expect(m.cancelWaiter(id: idC) == nil)  // once only
        #expect(m.cancelWaiter(id: 9999) == nil)
        var order: [String] = []
        var now = Self.t0
        while let batch = m.nextBatch(now: now + .milliseconds(100)).0 {
            order += batch.records.map(\.record.partitionKey)
            now += .milliseconds(100)
            _ = m.complete(batch, with: .success(Self.allSucceeded(batch)), now: now)
        }
        #expect(order == ["a", "b", "d"])
        #expect(m.cancelWaiter(id: idB) == nil)  // admitted by now
        #expect(m.cancelWaiter(id: idD) == nil)
        #expect(m.stats.sent == 3)
        #expect(m.isIdle)
    }

    @Test("a real send continuation: admitted from the line, or refused by shutdown")
    func sendContinuations() async throws {
        let box = Locked(Self.machine { $0.buffer.size = 1 })
        _ = box.withLock { $0.offerTest(Record(text: "a", partitionKey: "a"), now: Self.t0) }
        let parked = Locked(0)
        func park(_ name: String) -> Task<Void, any Error> {
            Task {
                try await withCheckedThrowingContinuation { (resume: CheckedContinuation<Void, any Error>) in
                    let result = box.withLock { m in
                        m.offer(
                            Record(text: name, partitionKey: name), id: m.makeID(), hash: 1, completion: .handler, resume: resume,
                            mayWait: true, now: Self.t0
                        )
                    }
                    switch result {
                    case .waiting: parked.withLock { $0 += 1 }
                    case .accepted: resume.resume()
                    case .refused(let error): resume.resume(throwing: error)
                    case .full: resume.resume(throwing: CancellationError())
                    }
                }
            }
        }
        let b = park("b")
        try await until { parked.value == 1 }
        let c = park("c")
        try await until { parked.value == 2 }
        let (batch, effects) = box.withLock { $0.nextBatch(now: Self.t0 + .seconds(1)) }
        #expect(batch?.records.count == 1)
        #expect(effects.admitted.count == 1)  // b
        for resume in effects.admitted { resume.resume() }
        try await b.value
        let drain = box.withLock { $0.beginDrain(deadline: Self.t0 + .seconds(5)) }
        #expect(drain.refused.count == 1)  // c
        for (resume, error) in drain.refused { resume.resume(throwing: error) }
        let error = await #expect(throws: RunnerError.self) { try await c.value }
        #expect(error?.code == .shutdown)
        #expect(box.withLock { $0.stats.rejected } == 1)
        #expect(box.withLock { $0.stats.sent } == 2)
    }

    @Test("nextBatch: at most 500 entries per request, and a full batch goes at once")
    func recordCap() {
        var m = Self.machine {
            $0.buffer.size = 2000
            $0.concurrency.isAsync = true
        }
        var readyFlags: [Bool] = []
        for i in 0..<1200 {
            if case .accepted(let ready) = m.offerTest(Self.record(i), now: Self.t0) { readyFlags.append(ready) }
        }
        #expect(readyFlags.count == 1200)  // every offer accepted
        #expect(readyFlags.indices.filter { readyFlags[$0] } == [0, 499])  // the first record (the loop sleeps until its flush) and the one that fills a batch
        var sizes: [Int] = []
        while let batch = m.nextBatch(now: Self.t0).0 { sizes.append(batch.records.count) }  // no waiting for a flush
        #expect(sizes == [500, 500])  // the last 200 wait for the flush interval
        #expect(m.nextBatch(now: Self.t0 + .milliseconds(99)).0 == nil)
        #expect(m.nextBatch(now: Self.t0 + .milliseconds(100)).0?.records.count == 200)
        #expect(m.inFlightRequests == 3)
        #expect(m.stats.requests == 3)
    }

    @Test("nextBatch: the request byte cap bounds a batch; maxRecordsPerRequest is honoured")
    func byteAndCountCaps() {
        var m = Self.machine {
            $0.batching.maxRequestBytes = 10_000
            $0.concurrency.isAsync = true
        }
        for i in 0..<35 { _ = m.offerTest(Self.record(i, dataBytes: 998), now: Self.t0) }  // 1000 billed bytes each ("k" + 1 digit)
        var batches: [(Int, Int)] = []
        while let batch = m.nextBatch(now: Self.t0 + .milliseconds(100)).0 { batches.append((batch.records.count, batch.bytes)) }
        #expect(batches.allSatisfy { $0.1 <= 10_000 })
        #expect(batches.map(\.0).reduce(0, +) == 35)
        #expect(batches.first?.0 == 10)

        var n = Self.machine {
            $0.batching.maxRecordsPerRequest = 7
            $0.concurrency.isAsync = true
        }
        for i in 0..<20 { _ = n.offerTest(Self.record(i), now: Self.t0) }
        var counts: [Int] = []
        while let batch = n.nextBatch(now: Self.t0 + .milliseconds(100)).0 { counts.append(batch.records.count) }
        #expect(counts == [7, 7, 6])
    }

    @Test("sync mode: one request in flight until its answer is handled")
    func syncOneInFlight() {
        var m = Self.machine { $0.batching.maxRecordsPerRequest = 10 }
        for i in 0..<30 { _ = m.offerTest(Self.record(i), now: Self.t0) }
        let first = m.nextBatch(now: Self.t0 + .seconds(1)).0
        #expect(first != nil)
        #expect(m.nextBatch(now: Self.t0 + .seconds(1)).0 == nil)
        _ = m.complete(first!, with: .success(Self.allSucceeded(first!)), now: Self.t0 + .seconds(1))
        #expect(m.nextBatch(now: Self.t0 + .seconds(1)).0 != nil)
    }

    @Test("per-entry answers: successes complete, only failures retry; a later success counts as recovered")
    func perEntryRetries() {
        var m = Self.machine {
            $0.retry.baseDelay = .milliseconds(10)
            $0.retry.maxDelay = .milliseconds(10)
        }
        for i in 0..<4 { _ = m.offerTest(Self.record(i), now: Self.t0) }
        let now = Self.t0 + .milliseconds(100)
        let batch = m.nextBatch(now: now).0!
        let answer = PutRecordsResult(records: [
            .init(sequenceNumber: "1", shardID: "shardId-000000000000"),
            .init(errorCode: "ProvisionedThroughputExceededException", errorMessage: "Rate exceeded"),
            .init(errorCode: "InternalFailure", errorMessage: "boom"),
            .init(sequenceNumber: "2", shardID: "shardId-000000000001"),
        ])
        let effects = m.complete(batch, with: .success(answer), now: now)
        #expect(effects.outcomes.map(\.record.record.partitionKey) == ["k0", "k3"])
        #expect(effects.outcomes.allSatisfy { (try? $0.result.get().attempts) == 1 })
        #expect(m.stats.delivered == 2)
        #expect(m.stats.throttled == 1)
        #expect(m.bufferedCount == 2)
        let retry = m.nextBatch(now: now + .milliseconds(11)).0!
        #expect(retry.records.map(\.record.partitionKey) == ["k1", "k2"])  // never the successes, oldest first
        #expect(m.stats.retries == 2)
        let done = m.complete(retry, with: .success(Self.allSucceeded(retry)), now: now + .milliseconds(12))
        #expect(done.outcomes.allSatisfy { (try? $0.result.get().attempts) == 2 })
        #expect(m.stats.delivered == 4)
        #expect(m.stats.recovered == 2)
        #expect(m.stats.failed == 0)
        #expect(m.stats.sent == m.stats.delivered + m.stats.failed)
        #expect(m.isIdle)
    }

    @Test("a record failing among deliveries waits at most the base delay, however often; one failing with the stream backs off exponentially")
    func backoffGrowsOnlyWhileTheStreamFails() throws {
        func machine() -> RunnerStateMachine {
            Self.machine {
                $0.retry.baseDelay = .milliseconds(100)
                $0.retry.maxDelay = .seconds(5)
                $0.retry.jitterSeed = 7
            }
        }
        var m = machine()
        var now = Self.t0 + .milliseconds(100)
        var next = 0
        func offer(_ count: Int) {
            for _ in 0..<count {
                _ = m.offerTest(Self.record(next), now: now)
                next += 1
            }
        }
        // k0 fails eight times in calls whose nine other records are stored.
        offer(10)
        now += .milliseconds(100)  // the flush interval; afterwards the retry at the front is due at once
        for round in 1...8 {
            let batch = try #require(m.nextBatch(now: now).0, "round \(round)")
            let failing = try #require(batch.records.firstIndex { $0.record.partitionKey == "k0" })
            let answer = Fixture.answer(batch, failure: { $0 == failing ? "InternalFailure" : nil })
            _ = m.complete(batch, with: .success(answer), now: now)
            let due = try #require(m.retries.nextDue)
            #expect(due - now <= .milliseconds(100), "round \(round)")
            now = due
            offer(9)
        }
        // A record failing alone: its waits grow with each call that failed.
        m = machine()
        offer(1)
        now += .seconds(1)
        var waits: [Duration] = []
        for _ in 1...8 {
            let batch = try #require(m.nextBatch(now: now).0)
            _ = m.complete(batch, with: .success(Fixture.answer(batch, failure: { _ in "InternalFailure" })), now: now)
            let due = try #require(m.retries.nextDue)
            waits.append(due - now)
            now = due
        }
        #expect(waits.contains { $0 > .milliseconds(400) }, "waits \(waits)")
        #expect(waits.allSatisfy { $0 <= .seconds(5) })
    }

    @Test("without a shard map, a per-record throttle naming a shard in its message is counted as `other`: no listed shard to trust")
    func throttledShardFromMessage() {
        var m = Self.machine { $0.metrics.perShard = true }
        for i in 0..<3 { _ = m.offerTest(Self.record(i), now: Self.t0) }
        let now = Self.t0 + .milliseconds(100)
        let batch = m.nextBatch(now: now).0!
        let throttle = "ProvisionedThroughputExceededException"
        let answer = PutRecordsResult(records: [
            .init(errorCode: throttle, errorMessage: "Rate exceeded for shard shardId-000000000003 in stream s under account 123456789012."),
            .init(errorCode: throttle, errorMessage: "Rate exceeded for shard shardId-000000000003 in stream s under account 123456789012."),
            .init(errorCode: throttle, errorMessage: "Rate exceeded"),
        ])
        _ = m.complete(batch, with: .success(answer), now: now)
        #expect(m.stats.throttled == 3)
        #expect(m.tally.throttledByShard == ["other": 2])
        #expect(RunnerStateMachine.throttledShard(in: "Rate exceeded for shard shardId-1") == "shardId-1")
        #expect(RunnerStateMachine.throttledShard(in: "Rate exceeded for shard ") == nil)
    }

    @Test("request-level answers: retryable errors retry the whole batch, others reject it")
    func requestLevelErrors() {
        var m = Self.machine {
            $0.retry.baseDelay = .milliseconds(1)
            $0.retry.maxDelay = .milliseconds(1)
        }
        for i in 0..<3 { _ = m.offerTest(Self.record(i), now: Self.t0) }
        let now = Self.t0 + .milliseconds(100)
        let batch = m.nextBatch(now: now).0!
        let throttled = KinesisError(code: .provisionedThroughputExceeded, message: "slow down", operation: "PutRecords", httpStatus: 400)
        #expect(m.complete(batch, with: .failure(throttled), now: now).outcomes.isEmpty)
        #expect(m.stats.throttled == 3)
        let again = m.nextBatch(now: now + .milliseconds(2)).0!
        #expect(again.records.count == 3)
        let invalid = KinesisError(code: .validation, message: "bad", operation: "PutRecords", httpStatus: 400)
        let effects = m.complete(again, with: .failure(invalid), now: now + .milliseconds(3))
        #expect(effects.outcomes.count == 3)
        for outcome in effects.outcomes {
            guard case .failure(let error) = outcome.result else {
                Issue.record("not failed")
                continue
            }
            #expect(error.code == .rejected)
            #expect(error.attempts == 2)
        }
        #expect(m.terminal == nil)
        #expect(m.stats.sent == m.stats.delivered + m.stats.failed)
    }

    @Test("a stream-fatal answer fails the batch, the buffer and the waiters, and refuses new records")
    func streamFatal() {
        var m = Self.machine { $0.buffer.size = 3 }
        for i in 0..<3 { _ = m.offerTest(Self.record(i), now: Self.t0) }
        let batch = m.nextBatch(now: Self.t0 + .milliseconds(100)).0!
        for i in 3..<6 { _ = m.offerTest(Self.record(i), mayWait: true, now: Self.t0) }  // admitted 3
        for i in 6..<8 { #expect(m.offerTest(Self.record(i), mayWait: true, now: Self.t0).isWaiting) }
        let missing = KinesisError(code: .resourceNotFound, message: "Stream s not found", operation: "PutRecords", httpStatus: 400)
        let effects = m.complete(batch, with: .failure(missing), now: Self.t0 + .milliseconds(101))
        #expect(effects.outcomes.count == 8)  // 3 in flight + 3 buffered + 2 waiting put callers
        for outcome in effects.outcomes {
            if case .failure(let error) = outcome.result { #expect(error.code == .streamUnusable) } else { Issue.record("delivered?") }
        }
        #expect(m.terminal?.code == .streamUnusable)
        guard case .refused(let error) = m.offerTest(Self.record(9), now: Self.t0) else {
            Issue.record("a record was accepted after a fatal error")
            return
        }
        #expect(error.code == .streamUnusable)
        #expect(m.stats.failed == 6)
        #expect(m.stats.sent == m.stats.delivered + m.stats.failed)
        #expect(m.isIdle)
        // Records of another request in flight at the time come back for a retry; when the run ends they fail
        // with the stream's error, not a shutdown.
        var a = Self.machine {
            $0.concurrency.isAsync = true
            $0.batching.maxRecordsPerRequest = 2
        }
        for i in 0..<4 { _ = a.offerTest(Self.record(i), now: Self.t0) }
        let one = a.nextBatch(now: Self.t0 + .milliseconds(100)).0!
        let two = a.nextBatch(now: Self.t0 + .milliseconds(100)).0!
        _ = a.complete(one, with: .failure(missing), now: Self.t0 + .milliseconds(101))
        let cancelled = Runner.cancelled(KinesisError(code: .transport, message: "cancelled", operation: "PutRecords"))
        #expect(a.complete(two, with: .failure(cancelled), now: Self.t0 + .milliseconds(102)).outcomes.isEmpty)  // backing off
        let left = a.finish().outcomes
        #expect(left.count == 2)
        #expect(left.allSatisfy { if case .failure(let e) = $0.result { e.code == .streamUnusable } else { false } })
        #expect(a.stats.sent == a.stats.delivered + a.stats.failed)

        for code in ["UnrecognizedClientException", "InvalidSignatureException", "AccessDeniedException", "KMSDisabledException"] {
            #expect(KinesisError(code: .init(rawValue: code), message: "", operation: "PutRecords").stopsStream)
        }
        #expect(!KinesisError(code: .internalFailure, message: "", operation: "PutRecords").stopsStream)
    }

    @Test("maxAttempts and the TTL end retries with .attemptsExhausted and .expired")
    func attemptsAndTTL() {
        var m = Self.machine {
            $0.retry.maxAttempts = 2
            $0.retry.baseDelay = .milliseconds(1)
            $0.retry.maxDelay = .milliseconds(1)
        }
        _ = m.offerTest(Self.record(0), now: Self.t0)
        var now = Self.t0 + .milliseconds(100)
        let failure = PutRecordsResult(records: [.init(errorCode: "InternalFailure", errorMessage: "x")])
        var outcomes: [RunnerStateMachine.Outcome] = []
        while let batch = m.nextBatch(now: now).0 {
            outcomes += m.complete(batch, with: .success(failure), now: now).outcomes
            now += .milliseconds(5)
        }
        #expect(outcomes.count == 1)
        if case .failure(let error) = outcomes.first?.result {
            #expect(error.code == .attemptsExhausted)
            #expect(error.attempts == 2)
            #expect(error.kinesisError?.code == .internalFailure)
        } else {
            Issue.record("expected a failure, got \(String(describing: outcomes.first?.result))")
        }

        var t = Self.machine {
            $0.retry.recordTTL = .milliseconds(500)
            $0.retry.baseDelay = .seconds(1)
            $0.retry.maxDelay = .seconds(1)
        }
        _ = t.offerTest(Self.record(0), now: Self.t0)
        _ = t.offerTest(Self.record(1), now: Self.t0)
        // Record 0 fails just before its deadline, record 1 is delivered.
        let batch = t.nextBatch(now: Self.t0 + .milliseconds(100)).0!
        #expect(batch.records.count == 2)
        var effects = t.complete(
            batch,
            with: .success(PutRecordsResult(records: [.init(errorCode: "InternalFailure"), .init(sequenceNumber: "1", shardID: "s-0")])),
            now: Self.t0 + .milliseconds(450)
        )
        // A backoff of up to 1 s may pass the deadline (then it fails now) or not (then it expires when due).
        effects.merge(t.nextBatch(now: Self.t0 + .seconds(2)).1)
        let failed = effects.outcomes.compactMap { outcome -> RunnerError? in
            if case .failure(let error) = outcome.result { return error } else { return nil }
        }
        #expect(failed.map(\.code) == [.expired])
        #expect(t.stats.failed == 1)
        #expect(t.stats.delivered == 1)
        #expect(t.isIdle)

        // A record that waits in the buffer past its TTL (no request slot) expires there.
        var u = Self.machine { $0.retry.recordTTL = .milliseconds(50) }
        _ = u.offerTest(Self.record(0), now: Self.t0)
        let expired = u.nextBatch(now: Self.t0 + .milliseconds(60)).1
        #expect(expired.outcomes.count == 1)
        if case .failure(let error) = expired.outcomes.first?.result { #expect(error.code == .expired) } else { Issue.record("expected .expired") }
    }

    @Test("beginDrain refuses waiters and new records, flushes the buffer without waiting, then abandonBuffered fails the rest")
    func drain() {
        var m = Self.machine {
            $0.buffer.size = 2
            $0.batching.flushInterval = .seconds(60)
        }
        _ = m.offerTest(Self.record(0), now: Self.t0)
        _ = m.offerTest(Self.record(1), now: Self.t0)
        #expect(m.offerTest(Self.record(2), mayWait: true, now: Self.t0).isWaiting)
        #expect(m.nextBatch(now: Self.t0).0 == nil)  // not due for a minute
        let effects = m.beginDrain(deadline: Self.t0 + .seconds(1))
        #expect(effects.outcomes.count == 1)  // the waiting put
        if case .failure(let error) = effects.outcomes.first?.result { #expect(error.code == .shutdown) } else { Issue.record("expected .shutdown") }
        #expect(m.beginDrain(deadline: Self.t0 + .seconds(9)).isEmpty)  // once
        guard case .refused(let error) = m.offerTest(Self.record(3), mayWait: true, now: Self.t0) else {
            Issue.record("accepted while draining")
            return
        }
        #expect(error.code == .shutdown)
        let batch = m.nextBatch(now: Self.t0).0  // due at once while draining
        #expect(batch?.records.count == 2)
        // A failed entry whose backoff ends after the drain deadline fails with .shutdown at once.
        var n = Self.machine {
            $0.retry.baseDelay = .seconds(10)
            $0.retry.maxDelay = .seconds(10)
        }
        for i in 0..<50 { _ = n.offerTest(Self.record(i), now: Self.t0) }
        _ = n.beginDrain(deadline: Self.t0 + .nanoseconds(1))
        let sent = n.nextBatch(now: Self.t0).0!
        let outcomes = n.complete(sent, with: .failure(KinesisError(code: .internalFailure, message: "", operation: "PutRecords", httpStatus: 500)), now: Self.t0 + .nanoseconds(1)).outcomes
        #expect(outcomes.count == 50)
        #expect(outcomes.allSatisfy { if case .failure(let e) = $0.result { e.code == .shutdown } else { false } })

        var o = Self.machine()
        for i in 0..<5 { _ = o.offerTest(Self.record(i), now: Self.t0) }
        _ = o.beginDrain(deadline: Self.t0)
        let left = o.abandonBuffered()
        #expect(left.outcomes.count == 5)
        #expect(o.stats.failed == 5)
        #expect(o.isIdle)
        #expect(o.finish().isEmpty)
    }

    static func allSucceeded(_ batch: RunnerStateMachine.Batch) -> PutRecordsResult {
        PutRecordsResult(records: batch.records.enumerated().map { .init(sequenceNumber: "\($0.offset + 1)", shardID: "shardId-000000000000") })
    }
}

extension RunnerStateMachine {
    /// Offers `record` for a `put`-style or `trySend`-style caller without a continuation.
    mutating func offerTest(_ record: Record, mayWait: Bool = false, now: ContinuousClock.Instant) -> OfferResult {
        offerTestWithID(record, mayWait: mayWait, now: now).1
    }

    mutating func offerTestWithID(_ record: Record, mayWait: Bool = false, now: ContinuousClock.Instant) -> (UInt64, OfferResult) {
        let id = makeID()
        return (id, offer(record, id: id, hash: HashKey(partitionKey: record.partitionKey).value, completion: .handler, resume: nil, mayWait: mayWait, now: now))
    }
}

extension RunnerStateMachine.OfferResult {
    var isAccepted: Bool { if case .accepted = self { true } else { false } }
    var isWaiting: Bool { if case .waiting = self { true } else { false } }
    var isFull: Bool { if case .full = self { true } else { false } }
}
