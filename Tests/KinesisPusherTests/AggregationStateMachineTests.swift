import Backoff
import KinesisAPI
import KinesisAggregation
import Testing
import TestSupport

@testable import KinesisPusher

/// Aggregation decisions of the state machine, without I/O: packing per predicted shard, limits, outcomes,
/// retries, aggregates that land on an unexpected shard after a reshard, and the rate limiter's cost.
@Suite("RunnerStateMachine with aggregation")
struct AggregationStateMachineTests {
    let t0 = Fixture.t0

    static func data(_ index: Int, count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
    }

    // MARK: Packing

    @Test("records for 2–4 shards go into aggregates of their predicted shard, in buffer order, each filled to maxSize", arguments: [2, 3, 4])
    func packsPerShard(shardCount: Int) throws {
        let map = try Fixture.evenMap(shardCount)
        let maxSize = 8_000
        var m = Fixture.machine(map: map, aggregation: .init(maxSize: maxSize))
        var ids: [UInt64] = []
        for i in 0..<1500 {
            // Every 10th record routes by an explicit hash key instead of its partition key.
            let explicit = i % 10 == 0 ? String(UInt128(i) &* 0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835) : nil
            ids.append(m.offerRouted(Record(data: Self.data(i, count: 20 + i % 80), partitionKey: "key-\(i)", explicitHashKey: explicit)))
        }
        let batch = try #require(m.nextBatch(now: t0 + .milliseconds(100)).0)
        let kinesis = try Fixture.check(batch, map: map, limits: m.limits, maxSize: maxSize)
        let entries = try #require(batch.entries)
        #expect(batch.records.map(\.id).sorted() == ids)  // all of them, each once
        #expect(Set(entries.compactMap(\.shard)) == Set(map.entries.map(\.shardID)))
        for shard in map.entries.map(\.shardID) {
            let mine = entries.indices.filter { entries[$0].shard == shard }
            // A shard's aggregates take its records in buffer order.
            let memberIDs = mine.flatMap { batch.records[entries[$0].members].map(\.id) }
            #expect(memberIDs == memberIDs.sorted())
            // All but the shard's last aggregate are full: the next member (at most ~170 bytes) did not fit.
            for index in mine.dropLast() { #expect(kinesis[index].billedSize > maxSize - 200, "aggregate \(index): \(kinesis[index].billedSize) bytes") }
        }
        #expect(m.stats.requests == 1)
        #expect(m.bufferedCount == 0)
    }

    @Test("before the shard map is known, a full buffer waits for it up to the flush interval instead of going out raw")
    func fullBufferWaitsForTheMap() throws {
        var m = Fixture.machine(map: nil) { $0.batching.flushInterval = .milliseconds(500) }
        for i in 0..<RunnerStateMachine.aggregatedRecordsPerCall { _ = m.offerRouted(Record(data: Self.data(i, count: 20), partitionKey: "key-\(i)")) }
        #expect(m.batchDue(now: t0) == t0 + .milliseconds(500))  // full, but not due until the flush interval
        let map = try Fixture.evenMap(2)
        _ = m.install(map, now: t0 + .milliseconds(10))
        #expect(m.batchDue(now: t0 + .milliseconds(10)) == t0 + .milliseconds(10))  // the map came: due at once
        let batch = try #require(m.nextBatch(now: t0 + .milliseconds(10)).0)
        #expect(batch.entries != nil)  // aggregated
        #expect(batch.kinesisRecordCount < batch.records.count / 10)
    }

    @Test("a call holds at most maxRecordsPerRequest Kinesis records and maxRequestBytes as sent; every record is delivered once")
    func requestLimits() throws {
        let map = try Fixture.evenMap(4)
        var m = Fixture.machine(map: map, aggregation: .init(maxSize: 1_000)) {
            $0.batching.maxRecordsPerRequest = 6
            $0.batching.maxRequestBytes = 4_500
        }
        var ids: Set<UInt64> = []
        for i in 0..<1200 { ids.insert(m.offerRouted(Record(data: Self.data(i, count: 30), partitionKey: "k\(i)"))) }
        var delivered: Set<UInt64> = []
        var now = t0 + .milliseconds(100)
        var kinesisRecords = 0
        while let batch = m.nextBatch(now: now).0 {
            let kinesis = try Fixture.check(batch, map: map, limits: m.limits, maxSize: 1_000)
            kinesisRecords += kinesis.count
            // The call is full by count or bytes, unless the buffer ran dry.
            #expect(kinesis.count == 6 || batch.bytes > 4_500 - 200 || m.bufferedCount == 0, "\(kinesis.count) records, \(batch.bytes) bytes")
            for id in Fixture.delivered(m.complete(batch, with: .success(Fixture.answer(batch)), now: now)).keys {
                #expect(delivered.insert(id).inserted)
            }
            now += .milliseconds(1)
        }
        #expect(delivered == ids)
        #expect(m.stats.deliveredKinesisRecords == kinesisRecords)
        #expect(m.stats.requests >= kinesisRecords / 6)
        #expect(m.isIdle)
    }

    @Test("a record too large to share goes raw and leaves its shard's aggregate open for the next ones")
    func tooLargeGoesRaw() throws {
        let map = try Fixture.evenMap(1)
        let maxSize = 500
        var m = Fixture.machine(map: map, aggregation: .init(maxSize: maxSize))
        let a0 = m.offerRouted(Record(data: Self.data(0, count: 40), partitionKey: "a"))
        let big = m.offerRouted(Record(data: Self.data(1, count: 480), partitionKey: "big", explicitHashKey: "12345"))
        let a1 = m.offerRouted(Record(data: Self.data(2, count: 40), partitionKey: "b"))
        let a2 = m.offerRouted(Record(data: Self.data(3, count: 40), partitionKey: "a"))
        let batch = try #require(m.nextBatch(now: t0 + .milliseconds(100)).0)
        let kinesis = try Fixture.check(batch, map: map, limits: m.limits, maxSize: maxSize)
        let entries = try #require(batch.entries)
        #expect(entries.map { batch.records[$0.members].map(\.id) } == [[a0, a1, a2], [big]])
        #expect(entries.map(\.isAggregate) == [true, false])
        // Raw: the record as given, its explicit hash key included.
        #expect(kinesis[1] == PutRecordsEntry(data: Self.data(1, count: 480), partitionKey: "big", explicitHashKey: "12345"))
        let results = Fixture.delivered(m.complete(batch, with: .success(Fixture.answer(batch)), now: t0 + .milliseconds(101)))
        #expect(results[big]?.subSequenceNumber == nil)
        #expect(results[big]?.sequenceNumber == "1001")
        #expect([a0, a1, a2].map { results[$0]?.subSequenceNumber } == [0, 1, 2])
        #expect(m.stats.aggregated == 3)
        #expect(m.stats.deliveredKinesisRecords == 2)
    }

    @Test("random sizes, keys and explicit hash keys: every aggregate stays within maxSize, every record is sent once", arguments: [1, 2, 3])
    func randomSizes(seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        let map = try Fixture.evenMap(Int.random(in: 1...5, using: &generator))
        let maxSize = Int.random(in: 200...3_000, using: &generator)
        var m = Fixture.machine(map: map, aggregation: .init(maxSize: maxSize, maxCount: Int.random(in: 2...50, using: &generator))) {
            $0.batching.maxRequestBytes = 64 << 10
            $0.concurrency.isAsync = true
            $0.concurrency.maxConcurrentPuts = 1000
        }
        var ids: Set<UInt64> = []
        for i in 0..<2000 {
            let key = i % 7 == 0 ? "ü-ключ-🙂-\(i % 13)" : "k\(Int.random(in: 0..<300, using: &generator))"
            let explicit = i % 5 == 0 ? String(UInt128(UInt64.random(in: 0...UInt64.max, using: &generator)) << 64) : nil
            let size = Bool.random(using: &generator) ? Int.random(in: 0...40, using: &generator) : Int.random(in: 0...maxSize, using: &generator)
            ids.insert(m.offerRouted(Record(data: [UInt8].random(count: size, using: &generator), partitionKey: key, explicitHashKey: explicit)))
        }
        var sent: [UInt64] = []
        while let batch = m.nextBatch(now: t0 + .milliseconds(100)).0 {
            try Fixture.check(batch, map: map, limits: m.limits, maxSize: maxSize)
            sent += batch.records.map(\.id)
        }
        #expect(sent.count == ids.count)
        #expect(Set(sent) == ids)
    }

    @Test("maxCount caps an aggregate's members; maxCount 1 sends every record raw", arguments: [1, 3])
    func maxCount(maxCount: Int) throws {
        let map = try Fixture.evenMap(1)
        var m = Fixture.machine(map: map, aggregation: .init(maxCount: maxCount))
        for i in 0..<10 { m.offerRouted(Record(data: Self.data(i, count: 10), partitionKey: "k\(i)")) }
        let batch = try #require(m.nextBatch(now: t0 + .milliseconds(100)).0)
        let kinesis = try Fixture.check(batch, map: map, limits: m.limits, maxSize: 51_200)
        let entries = try #require(batch.entries)
        #expect(entries.map(\.members.count) == (maxCount == 1 ? Array(repeating: 1, count: 10) : [3, 3, 3, 1]))
        // The lone last record goes raw, not as an aggregate of one.
        #expect(kinesis.last == PutRecordsEntry(data: Self.data(9, count: 10), partitionKey: "k9"))
        #expect(KinesisAggregation.deaggregate(kinesis.last!.data) == nil)
    }

    @Test("one record per shard: each Kinesis record is the record itself, with no sub-sequence number")
    func singleMembersRaw() throws {
        let map = try Fixture.evenMap(4)
        var m = Fixture.machine(map: map)
        var ids: [UInt64] = []
        for entry in map.entries {
            let key = Fixture.keys(1, routedTo: entry.shardID, by: map)[0]
            ids.append(m.offerRouted(Record(text: "only \(key)", partitionKey: key)))
        }
        let batch = try #require(m.nextBatch(now: t0 + .milliseconds(100)).0)
        let kinesis = try Fixture.check(batch, map: map, limits: m.limits, maxSize: 51_200)
        #expect(kinesis.count == 4)
        #expect(kinesis.allSatisfy { $0.explicitHashKey == nil && KinesisAggregation.deaggregate($0.data) == nil })
        #expect(batch.entries?.map(\.shard) == map.entries.map(\.shardID))  // routed as predicted
        let results = Fixture.delivered(m.complete(batch, with: .success(Fixture.answer(batch)), now: t0 + .milliseconds(101)))
        #expect(Set(results.keys) == Set(ids))
        #expect(results.values.allSatisfy { $0.subSequenceNumber == nil && $0.attempts == 1 })
        #expect(m.stats.aggregated == 0)
        #expect(m.stats.deliveredKinesisRecords == 4)
        #expect(m.stats.delivered == 4)
    }

    // MARK: Outcomes

    @Test("outcomes carry the aggregate's shard and sequence number and sub-sequence numbers 0…n−1 in member order")
    func subSequenceNumbers() throws {
        let map = try Fixture.evenMap(2)
        var m = Fixture.machine(map: map, aggregation: .init(maxSize: 2_000)) { $0.metrics.perShard = true }
        for i in 0..<300 { m.offerRouted(Record(data: Self.data(i, count: 25), partitionKey: "key-\(i)")) }
        let now = t0 + .milliseconds(100)
        let batch = try #require(m.nextBatch(now: now).0)
        let kinesis = try Fixture.check(batch, map: map, limits: m.limits, maxSize: 2_000)
        let entries = try #require(batch.entries)
        #expect(entries.count > 4)
        let results = Fixture.delivered(m.complete(batch, with: .success(Fixture.answer(batch, base: 500)), now: now + .milliseconds(3)))
        #expect(results.count == 300)
        var aggregated = 0
        for (index, entry) in entries.enumerated() {
            let members = Array(batch.records[entry.members])
            let unpacked = KinesisAggregation.deaggregate(kinesis[index].data)
            for (position, member) in members.enumerated() {
                let result = try #require(results[member.id])
                #expect(result.shardID == entry.shard)
                #expect(result.sequenceNumber == String(500 + index))
                #expect(result.subSequenceNumber == (entry.isAggregate ? position : nil))
                #expect(result.attempts == 1)
                #expect(result.latency == .milliseconds(103))
                // The sub-sequence number points at this very record inside the aggregate.
                if entry.isAggregate { #expect(unpacked?[position] == member.userRecord) }
            }
            if entry.isAggregate { aggregated += members.count }
        }
        #expect(m.stats.delivered == 300)
        #expect(m.stats.aggregated == aggregated)
        #expect(m.stats.deliveredKinesisRecords == entries.count)
        #expect(m.stats.deliveredBytes == batch.records.map(\.size).reduce(0, +))
        #expect(m.tally.deliveredByShard.values.reduce(0, +) == 300)
        #expect(m.isIdle)
    }

    @Test("a throttled aggregate retries all its members (counted as throttled), re-packed for the same shard; other failures too")
    func throttledAggregate() throws {
        let map = try Fixture.evenMap(2)
        var m = Fixture.machine(map: map) {
            $0.retry.baseDelay = .milliseconds(10)
            $0.retry.maxDelay = .milliseconds(10)
            $0.metrics.perShard = true
        }
        for i in 0..<200 { m.offerRouted(Record(data: Self.data(i, count: 30), partitionKey: "key-\(i)")) }
        var now = t0 + .milliseconds(100)
        let batch = try #require(m.nextBatch(now: now).0)
        let entries = try #require(batch.entries)
        #expect(entries.count == 2)
        let throttled = batch.records[entries[0].members].map(\.id)
        let failed = batch.records[entries[1].members].map(\.id)
        let effects = m.complete(
            batch,
            with: .success(Fixture.answer(batch, failure: { $0 == 0 ? "ProvisionedThroughputExceededException" : "InternalFailure" })),
            now: now
        )
        #expect(effects.outcomes.isEmpty)
        #expect(m.stats.throttled == throttled.count)
        #expect(m.tally.throttledRecords == ["ProvisionedThroughputExceededException": throttled.count])
        #expect(m.tally.throttledByShard == [entries[0].shard!: throttled.count])
        #expect(m.tally.failedAttempts == ["InternalFailure": failed.count])
        #expect(m.bufferedCount == 200)
        #expect(m.stats.deliveredKinesisRecords == 0)

        now += .milliseconds(20)
        var retried: [UInt64] = []
        var delivered: [UInt64: PutResult] = [:]
        while let retry = m.nextBatch(now: now).0 {
            try Fixture.check(retry, map: map, limits: m.limits, maxSize: 51_200)
            retried += retry.records.map(\.id)
            delivered.merge(Fixture.delivered(m.complete(retry, with: .success(Fixture.answer(retry)), now: now)), uniquingKeysWith: { a, _ in a })
        }
        #expect(retried.sorted() == (throttled + failed).sorted())
        #expect(delivered.count == 200)
        #expect(delivered.values.allSatisfy { $0.attempts == 2 })
        #expect(m.stats.retries == 200)
        #expect(m.stats.recovered == 200)
        #expect(m.stats.throttled == throttled.count)  // the retry was not throttled
        #expect(m.isIdle)
    }

    // MARK: Unexpected shards

    /// A call to two shards: shard 0's aggregate (at `index`, with `members`, whose hashes span both halves of
    /// shard 0's range) and shard 1's aggregate of 5 records, not answered yet.
    struct Landing {
        var machine: RunnerStateMachine
        let batch: RunnerStateMachine.Batch
        let index: Int
        let members: [UInt64]

        init(ordered: Bool = false, maxCount: Int = .max, extra: [Record] = [], ttl: Duration? = .seconds(30), maxAttempts: Int? = nil) throws {
            let map = try Fixture.evenMap(2)
            machine = Fixture.machine(map: map, aggregation: .init(maxCount: maxCount)) {
                $0.ordering = ordered ? .perPartitionKey : .none
                $0.concurrency.isAsync = true
                $0.retry.recordTTL = ttl
                $0.retry.maxAttempts = maxAttempts
            }
            for key in Fixture.keys(60, routedTo: shardID(0), by: map, prefix: "zero-") { machine.offerRouted(Record(text: key, partitionKey: key)) }
            for key in Fixture.keys(5, routedTo: shardID(1), by: map, prefix: "one-") { machine.offerRouted(Record(text: key, partitionKey: key)) }
            for record in extra { machine.offerRouted(record) }
            batch = try #require(machine.nextBatch(now: Fixture.t0 + .milliseconds(100)).0)
            let entries = try #require(batch.entries)
            index = try #require(entries.firstIndex { $0.shard == shardID(0) })
            let records = Array(batch.records[entries[index].members])
            let quarter = UInt128.max / 4  // the end of shard 0's lower half
            try #require(records.contains { $0.hash <= quarter } && records.contains { $0.hash > quarter })
            members = records.map(\.id)
        }

        /// Answers the call with shard 0's aggregate stored on `shard`, the rest as predicted.
        mutating func answer(storingOn shard: String, now: ContinuousClock.Instant = Fixture.t0 + .milliseconds(100)) -> RunnerStateMachine.Effects {
            let index = index
            return machine.complete(batch, with: .success(Fixture.answer(batch) { $0 == index ? shard : $1 }), now: now)
        }
    }

    @Test("an aggregate stored on a shard the map does not know is held until a map knows it; delivered there if the shard owns all its records")
    func heldThenDelivered() throws {
        var landing = try Landing()
        let members = landing.members
        let now = t0 + .milliseconds(100)
        let effects = landing.answer(storingOn: shardID(2))
        // Shard 1's records are delivered; shard 0's wait.
        #expect(Set(Fixture.delivered(effects).keys).isDisjoint(with: members))
        #expect(Fixture.delivered(effects).count == 5)
        var m = landing.machine
        #expect(m.refreshRequested)
        #expect(!m.isIdle)
        #expect(m.bufferedCount == 0)
        #expect(m.nextBatch(now: now + .seconds(1)).0 == nil)
        #expect(m.stats.deliveredKinesisRecords == 2)  // both Kinesis records were acknowledged
        // A reshard to 2 shards of the same ranges: shard 2 owns what shard 0 did.
        let results = Fixture.delivered(m.install(try Fixture.evenMap(2, firstIndex: 2), now: now + .milliseconds(10)))
        #expect(results.count == members.count)
        for (position, id) in members.enumerated() {
            #expect(results[id]?.shardID == shardID(2))
            #expect(results[id]?.sequenceNumber == String(1000 + landing.index))
            #expect(results[id]?.subSequenceNumber == position)
            #expect(results[id]?.latency == .milliseconds(110))
        }
        #expect(m.stats.reaggregated == 0)
        #expect(m.stats.delivered == members.count + 5)
        #expect(m.stats.aggregated == members.count + 5)
        #expect(m.isIdle)
    }

    @Test("an aggregate held for a shard map that does not come fails when its records' time to live ends, saying it may be stored")
    func heldUntilTTL() throws {
        var landing = try Landing(ttl: .seconds(1))
        let members = landing.members
        _ = landing.answer(storingOn: shardID(2))
        var m = landing.machine
        #expect(m.nextExpiry == t0 + .seconds(1), "the loop wakes for the held aggregate's deadline")
        #expect(Fixture.failed(m.nextBatch(now: t0 + .milliseconds(900)).1).isEmpty)
        let failed = Fixture.failed(m.nextBatch(now: t0 + .milliseconds(1001)).1)
        #expect(Set(failed.keys) == Set(members))
        #expect(failed.values.allSatisfy { $0.code == .expired && $0.message.contains("that may not own its hash key") })
        #expect(m.stats.failed == members.count)
        #expect(m.isIdle)
    }

    @Test("records resent after their aggregate landed on the wrong shard give up once their attempts are used up")
    func resendHonoursMaxAttempts() throws {
        var landing = try Landing(maxAttempts: 1)
        let members = landing.members
        _ = landing.answer(storingOn: shardID(2))
        var m = landing.machine
        let failed = Fixture.failed(m.install(try Fixture.evenMap(4, firstIndex: 2), now: t0 + .milliseconds(110)))
        #expect(Set(failed.keys) == Set(members))
        #expect(failed.values.allSatisfy { $0.code == .attemptsExhausted && $0.message.contains("does not own all of its records") })
        #expect(m.bufferedCount == 0)
        #expect(m.nextBatch(now: t0 + .milliseconds(110)).0 == nil)
    }

    @Test("an aggregate held for an unknown shard that turns out not to own all its records is resent and re-packed under the new map")
    func heldThenResent() throws {
        var landing = try Landing()
        let members = landing.members
        _ = landing.answer(storingOn: shardID(2))
        var m = landing.machine
        // 2 → 4 shards (2…5): shard 2 owns only the lower half of what shard 0 did.
        let map = try Fixture.evenMap(4, firstIndex: 2)
        let now = t0 + .milliseconds(110)
        #expect(m.install(map, now: now).outcomes.isEmpty)
        #expect(m.stats.reaggregated == members.count)
        #expect(m.bufferedCount == members.count)
        #expect(!m.isIdle)
        let resend = try #require(m.nextBatch(now: now).0)
        try Fixture.check(resend, map: map, limits: m.limits, maxSize: 51_200)
        #expect(resend.records.map(\.id).sorted() == members.sorted())
        #expect(Set(resend.entries?.compactMap(\.shard) ?? []) == [shardID(2), shardID(3)])
        let results = Fixture.delivered(m.complete(resend, with: .success(Fixture.answer(resend)), now: now))
        #expect(Set(results.keys) == Set(members))
        #expect(results.values.allSatisfy { [shardID(2), shardID(3)].contains($0.shardID) && $0.attempts == 2 })
        #expect(m.stats.delivered == members.count + 5)
        #expect(m.stats.sent == m.stats.delivered)
        #expect(m.isIdle)
    }

    @Test("an aggregate held for an unknown shard is resent when the next map still does not know it")
    func heldThenStillUnknown() throws {
        var landing = try Landing()
        _ = landing.answer(storingOn: shardID(9))
        var m = landing.machine
        let map = try Fixture.evenMap(2)
        let now = t0 + .milliseconds(110)
        #expect(m.install(map, now: now).outcomes.isEmpty)
        #expect(m.stats.reaggregated == landing.members.count)
        let resend = try #require(m.nextBatch(now: now).0)
        try Fixture.check(resend, map: map, limits: m.limits, maxSize: 51_200)
        #expect(resend.records.map(\.id).sorted() == landing.members.sorted())
        #expect(resend.entries?.map(\.shard) == [shardID(0)])
    }

    @Test("an aggregate stored on a known shard that does not own its records is resent at once")
    func knownWrongShard() throws {
        var landing = try Landing()
        let effects = landing.answer(storingOn: shardID(1))
        #expect(Fixture.delivered(effects).count == 5)
        #expect(landing.machine.stats.reaggregated == landing.members.count)
        #expect(landing.machine.bufferedCount == landing.members.count)
        #expect(landing.machine.refreshRequested)
    }

    @Test("the answer comes after a refresh: the new map settles the aggregate at once")
    func answerAfterRefresh() throws {
        var landing = try Landing()
        #expect(landing.machine.install(try Fixture.evenMap(2, firstIndex: 2), now: t0 + .milliseconds(100)).isEmpty)
        let results = Fixture.delivered(landing.answer(storingOn: shardID(2)))
        #expect(results.count == landing.members.count + 5)
        #expect(landing.members.allSatisfy { results[$0]?.shardID == shardID(2) })
        #expect(landing.machine.stats.reaggregated == 0)
        #expect(landing.machine.isIdle)
    }

    @Test("shutdown fails the records of a held aggregate with a message naming its shard", arguments: [false, true])
    func heldAtShutdown(abandon: Bool) throws {
        var landing = try Landing()
        _ = landing.answer(storingOn: shardID(7))
        var m = landing.machine
        let effects: RunnerStateMachine.Effects
        if abandon {
            _ = m.beginDrain(deadline: t0 + .milliseconds(100))
            effects = m.abandonBuffered()
        } else {
            effects = m.finish()
        }
        let errors = Fixture.failed(effects)
        #expect(Set(errors.keys) == Set(landing.members))
        for error in errors.values {
            #expect(error.code == .shutdown)
            #expect(error.message.contains("shardId-000000000007"), "\(error.message)")
            #expect(error.message.contains("sequence number \(1000 + landing.index)"), "\(error.message)")
            #expect(error.message.contains("KCL"), "\(error.message)")
            #expect(error.attempts == 1)
        }
        #expect(m.stats.failed == landing.members.count)
        #expect(m.stats.sent == m.stats.delivered + m.stats.failed)
        #expect(m.isIdle)
    }

    // MARK: Rate limiter

    @Test("an aggregate costs one record token: 5 records of budget per shard still carry thousands of user records")
    func aggregateCostsOneRecordToken() throws {
        let map = try Fixture.evenMap(4)
        // 1 %: 10 records/s and 10 KiB/s per shard; a bucket holds 5 records and ~5 KiB.
        let keys = map.entries.map { Fixture.keys(1, routedTo: $0.shardID, by: map)[0] }
        var m = Fixture.machine(map: map, rateLimitPercent: 1, aggregation: .init(maxSize: 1_000)) { $0.concurrency.isAsync = true }
        for i in 0..<6000 { m.offerRouted(Record(data: [UInt8(i % 256)], partitionKey: keys[i % 4])) }
        let now = t0 + .milliseconds(100)
        let batch = try #require(m.nextBatch(now: now).0)
        let kinesis = try Fixture.check(batch, map: map, limits: m.limits, maxSize: 1_000)
        print("rate limit 1 %: one call carries \(batch.records.count) user records in \(kinesis.count) aggregates")
        #expect(kinesis.count == 20)  // 5 per shard: the record tokens, not the bytes (5 × 1000 < 5 KiB)
        #expect(batch.entries?.allSatisfy(\.isAggregate) == true)
        for shard in map.entries.map(\.shardID) { #expect(batch.entries?.filter { $0.shard == shard }.count == 5) }
        #expect(batch.records.count > 2_500)
        #expect(try #require(m.nextWake(now: now)) > now)  // budget-limited: the loop sleeps
        #expect(m.nextBatch(now: now).0 == nil)  // no record token left
        // A second later the buckets hold 5 records again.
        #expect(try #require(m.nextBatch(now: now + .seconds(1)).0).kinesisRecordCount == 20)

        // Without aggregation the same budget carries 5 user records per shard.
        var raw = Fixture.machine(map: map, rateLimitPercent: 1, aggregation: nil) { $0.concurrency.isAsync = true }
        for i in 0..<3600 { raw.offerRouted(Record(data: [UInt8(i % 256)], partitionKey: keys[i % 4])) }
        #expect(try #require(raw.nextBatch(now: now).0).records.count == 20)
    }
}

/// The consumer's hash of a user record (`KinesisAggregation.hashKey(of:)`, what `consume` checks) is the hash
/// the producer routes and packs by (`HashKey`).
@Suite("KinesisAggregation.hashKey matches the producer's routing hash")
struct ConsumerHashTests {
    @Test("partition keys (MD5) and explicit hash keys")
    func sameHash() throws {
        var generator = SplitMix64(seed: 42)
        for i in 0..<2000 {
            let key = i % 3 == 0 ? "ü-ключ-🙂-\(UInt64.random(in: 0...UInt64.max, using: &generator))" : "key-\(i)"
            let record = KinesisAggregation.UserRecord(partitionKey: key, data: [])
            #expect(KinesisAggregation.hashKey(of: record) == HashKey(partitionKey: key).value)
            let explicit = String(UInt128(UInt64.random(in: 0...UInt64.max, using: &generator)) << 64 | UInt128(i))
            let routed = KinesisAggregation.UserRecord(partitionKey: key, explicitHashKey: explicit, data: [])
            #expect(KinesisAggregation.hashKey(of: routed) == HashKey(decimal: explicit)?.value)
        }
        #expect(KinesisAggregation.hashKey(of: .init(partitionKey: "k", explicitHashKey: HashKey.max.description, data: [])) == .max)
    }
}
