import KinesisAPI
import Testing
import TestSupport

@testable import KinesisPusher

/// The parts batch selection stands on, each alone: the lanes records wait in, the waiting line, the retry queue,
/// the call limit;
/// then the pacing they make possible: full batches at the budget's pace, lanes without budget left untouched,
/// and a loop that sleeps until the next instant anything can happen.
@Suite("Lanes, waiting line, retry queue, call limit and event-driven pacing")
struct LanesAndPacingTests {
    static let t0 = Fixture.t0

    static func pending(_ id: UInt64, key: String, acceptedAt: ContinuousClock.Instant = t0) -> PendingRecord {
        let record = Record(text: "r\(id)", partitionKey: key)
        return PendingRecord(
            id: id, record: record, hash: Fixture.hash(record), size: record.billedSize, acceptedAt: acceptedAt,
            deadline: nil, completion: .handler
        )
    }

    @Test("lanes: one per shard plus a stream-wide one; re-laning keeps each lane in acceptance order")
    func lanes() throws {
        var lanes = RunnerStateMachine.Lanes()
        #expect(lanes.streamWide == 0)
        let map = try Fixture.evenMap(4)
        let keys = map.entries.map { Fixture.keys(3, routedTo: $0.shardID, by: map) }
        // Interleaved over the shards, all in the stream-wide lane while no map is known.
        var id: UInt64 = 0
        for round in 0..<3 {
            for shard in 0..<4 {
                id += 1
                lanes.append(Self.pending(id, key: keys[shard][round]), to: RunnerStateMachine.Lanes.lane(of: Fixture.hash(Record(text: "", partitionKey: keys[shard][round])), in: nil))
            }
        }
        #expect(lanes.count == 12 && lanes.count(in: 0) == 12)
        lanes.relane(for: map)
        #expect(lanes.lanes.count == 5)
        for shard in 0..<4 {
            #expect(lanes.count(in: shard) == 3)
            let ids = lanes.lanes[shard].records.map(\.id)
            #expect(ids == ids.sorted(), "lane \(shard): \(ids)")
            #expect(lanes.lanes[shard].records.allSatisfy { map.index(for: $0.hash) == shard })
        }
        #expect(lanes.count(in: lanes.streamWide) == 0)
        // A record whose hash the map does not cover goes to the stream-wide lane.
        let gapped = try Fixture.map([.init(startingHashKey: HashKey(0), endingHashKey: HashKey(UInt128.max / 2))])
        lanes.relane(for: gapped)
        #expect(lanes.count(in: 0) + lanes.count(in: lanes.streamWide) == 12)
        #expect(lanes.count(in: lanes.streamWide) == lanes.lanes[1].records.filter { $0.hash > UInt128.max / 2 }.count)
        // Front and back, bytes.
        let front = Self.pending(100, key: "x")
        lanes.prepend(front, to: 0)
        #expect(lanes.first(in: 0)?.id == 100)
        #expect(lanes.removeFirst(from: 0).id == 100)
        #expect(lanes.bytes == lanes.lanes.map(\.bytes).reduce(0, +))
        #expect(lanes.removeAll().count == 12 && lanes.isEmpty && lanes.bytes == 0)
    }

    @Test("waiting line: first come first served; a cancelled caller leaves at once and is skipped")
    func waitingLine() {
        var line = RunnerStateMachine.WaitingLine()
        for id in UInt64(1)...5 { line.append(.init(record: Self.pending(id, key: "k\(id)"), resume: nil)) }
        #expect(line.cancel(id: 1)?.record.id == 1)
        #expect(line.cancel(id: 3)?.record.id == 3)
        #expect(line.cancel(id: 3) == nil)
        #expect(line.cancel(id: 99) == nil)
        #expect(line.count == 3)
        #expect(line.first()?.record.id == 2)
        #expect(line.popFirst()?.record.id == 2)
        #expect(line.popFirst()?.record.id == 4)
        _ = line.cancel(id: 5)
        #expect(line.isEmpty && line.popFirst() == nil)
        // Many cancellations in a long line stay cheap: each is a dictionary removal.
        for id in UInt64(10)..<20_010 { line.append(.init(record: Self.pending(id, key: "k"), resume: nil)) }
        for id in stride(from: UInt64(20_009), through: 10, by: -1) where id % 2 == 0 { _ = line.cancel(id: id) }
        #expect(line.count == 10_000)
        #expect(line.popFirst()?.record.id == 11)
    }

    @Test("retry queue: the earliest due is known; only due records leave, earliest first")
    func retryQueue() {
        var queue = RunnerStateMachine.RetryQueue()
        for (id, ms) in [(1, 300), (2, 100), (3, 200), (4, 100)] {
            var record = Self.pending(UInt64(id), key: "k")
            record.notBefore = Self.t0 + .milliseconds(ms)
            queue.insert(record)
        }
        #expect(queue.nextDue == Self.t0 + .milliseconds(100))
        #expect(queue.popDue(now: Self.t0 + .milliseconds(99)).isEmpty)
        #expect(queue.popDue(now: Self.t0 + .milliseconds(200)).map(\.id) == [2, 4, 3])
        #expect(queue.nextDue == Self.t0 + .milliseconds(300) && queue.count == 1)
        #expect(queue.removeAll().map(\.id) == [1] && queue.isEmpty && queue.nextDue == nil)
    }

    @Test("call limit: halved per failed call down to one, back by about one per round of successes, never above the maximum")
    func callLimit() {
        var limit = RunnerStateMachine.CallLimit(maximum: 8)
        #expect(limit.allowed == 8)
        for expected in [4, 2, 1, 1] {
            limit.callFailed()
            #expect(limit.allowed == expected)
        }
        limit.callSucceeded()
        #expect(limit.allowed == 2)  // a round of one call
        var successes = 1
        while limit.allowed < 8 {
            limit.callSucceeded()
            successes += 1
        }
        // Rounds of 1, 2, … 7 calls: about 30 successes to grow from 1 to 8.
        #expect((26...34).contains(successes), "\(successes)")
        for _ in 0..<100 { limit.callSucceeded() }
        #expect(limit.allowed == 8 && limit.window == 8)
    }

    /// A paced machine on a 4-shard map with `records` records spread evenly over the shards.
    static func paced(records: Int, bufferSize: Int = 10_000, percent: Double = 100) throws -> (RunnerStateMachine, ShardMap) {
        let map = try Fixture.evenMap(4)
        var m = Fixture.machine(map: map, rateLimitPercent: percent, aggregation: nil) {
            $0.buffer.size = bufferSize
            $0.concurrency.isAsync = true
        }
        let keys = map.entries.map { Fixture.keys(records / 4, routedTo: $0.shardID, by: map) }
        for i in 0..<records { m.offerRouted(Record(text: "record-\(i)", partitionKey: keys[i % 4][i / 4])) }
        return (m, map)
    }

    /// Drives `m` as the run loop does, answering every call at once with success, until `end`; returns the
    /// batch sizes and the wake-ups that found nothing to send.
    static func drive(_ m: inout RunnerStateMachine, until end: ContinuousClock.Instant) -> (batches: [Int], idleWakes: Int) {
        var now = t0
        var batches: [Int] = []
        var idle = 0
        while now < end {
            var sent = false
            actions: while true {
                switch m.nextAction(now: now).0 {
                case .send(let batch):
                    batches.append(batch.records.count)
                    sent = true
                    _ = m.complete(batch, with: .success(StateMachineTests.allSucceeded(batch)), now: now)
                case .refreshShards:
                    m.refreshFinished()
                case .wait(let until):
                    if !sent { idle += 1 }
                    guard let until else { return (batches, idle) }
                    now = until
                    break actions
                case .stop:
                    return (batches, idle)
                }
            }
        }
        return (batches, idle)
    }

    @Test("paced at 4 shards' limit: the burst in full calls, then a call of 400 every 100 ms; no wake-up without a batch")
    func fullBatchesWhenPaced() throws {
        var (m, _) = try Self.paced(records: 8_000)
        let (batches, idle) = Self.drive(&m, until: Self.t0 + .milliseconds(1_010))
        // Half a second of burst (2,000 records) at once, then 4,000 records/s in calls of 100 ms each.
        print("paced batches in the first second: \(batches)")
        #expect(batches.reduce(0, +) == 6_000)
        #expect(batches == [500, 500, 500, 500] + Array(repeating: 400, count: 10), "\(batches)")
        #expect(idle <= 2, "wake-ups with nothing to send: \(idle)")
        #expect(m.stats.delivered == batches.reduce(0, +))
    }

    @Test("a lane without budget is left alone while the others are taken")
    func exhaustedLaneUntouched() throws {
        let map = try Fixture.evenMap(4)
        var m = Fixture.machine(map: map, rateLimitPercent: 100, aggregation: nil) { $0.concurrency.isAsync = true }
        let hot = Fixture.keys(2_000, routedTo: map.entries[0].shardID, by: map)
        for key in hot { m.offerRouted(Record(text: "hot", partitionKey: key)) }
        let first = try #require(m.nextBatch(now: Self.t0).0)
        #expect(first.records.count == 500)  // the hot shard's burst
        let hotFront = m.lanes.first(in: 0)?.id
        let cold = map.entries[1...].flatMap { Fixture.keys(100, routedTo: $0.shardID, by: map) }
        for key in cold { m.offerRouted(Record(text: "cold", partitionKey: key)) }
        // At 150 ms the hot shard has 150 tokens: with the cold records more than the lanes' share of a paced call
        // (100 ms of each shard's rate: 100 per lane), so a batch goes.
        let second = try #require(m.nextBatch(now: Self.t0 + .milliseconds(150)).0)
        #expect(second.records.filter { $0.record.data == Array("cold".utf8) }.count == 300)
        #expect(second.records.count == 450)
        // The hot lane gave exactly its new tokens from its front, in order; nothing was moved back and forth.
        #expect(second.records.first { $0.record.data == Array("hot".utf8) }?.id == hotFront)
        #expect(m.lanes.count(in: 0) == 2_000 - 500 - 150)
    }

    @Test("the loop's next instant: flush deadline, retry, expiry, refresh, shutdown deadline")
    func nextWake() throws {
        let map = try Fixture.evenMap(2)
        var m = Fixture.machine(map: map, rateLimitPercent: 100, aggregation: nil) {
            $0.retry.recordTTL = .seconds(3)
            $0.batching.flushInterval = .milliseconds(100)
            $0.shardRefreshInterval = .seconds(30)
        }
        // Nothing buffered: only the refresh, 30 s after the map.
        guard case .wait(let idle) = m.nextAction(now: Self.t0).0 else { Issue.record("expected a wait"); return }
        #expect(idle == Self.t0 + .seconds(30))
        m.offerRouted(Record(text: "a", partitionKey: "a"), now: Self.t0 + .milliseconds(10))
        #expect(m.nextWake(now: Self.t0 + .milliseconds(20)) == Self.t0 + .milliseconds(110))
        // The batch goes at its flush deadline and fails: the retry's backoff is the next instant.
        let batch = try #require(m.nextBatch(now: Self.t0 + .milliseconds(110)).0)
        let failure = PutRecordsResult(records: [.init(errorCode: "InternalFailure", errorMessage: "x")])
        _ = m.complete(batch, with: .success(failure), now: Self.t0 + .milliseconds(120))
        let retryDue = try #require(m.retries.nextDue)
        #expect(m.nextWake(now: Self.t0 + .milliseconds(120)) == max(retryDue, Self.t0 + .milliseconds(121)))
        // A shutdown deadline earlier than everything else.
        _ = m.beginDrain(deadline: Self.t0 + .milliseconds(121))
        #expect(m.nextWake(now: Self.t0 + .milliseconds(120)) == Self.t0 + .milliseconds(121))
    }

    @Test("expiry wakes the loop: a record that cannot go fails at its deadline, not at the next batch")
    func expiryWakes() throws {
        let map = try Fixture.evenMap(1)
        var m = Fixture.machine(map: map, rateLimitPercent: 1, aggregation: nil) {  // 10 records/s: 5 in the burst
            $0.retry.recordTTL = .seconds(2)
            $0.concurrency.isAsync = true
        }
        for i in 0..<100 { m.offerRouted(Record(text: "\(i)", partitionKey: "k\(i)")) }
        let (batches, _) = Self.drive(&m, until: Self.t0 + .milliseconds(2_500))
        // 5 at once, then 10/s; the rest expire at t0 + 2 s.
        #expect(batches.reduce(0, +) <= 5 + 21)
        #expect(m.stats.failed == 100 - batches.reduce(0, +))
        #expect(m.bufferedCount == 0)
    }

    @Test("ordered mode: a key whose explicit hash keys point at two shards still leaves in order", arguments: [false, true])
    func orderedAcrossLanes(aggregated: Bool) throws {
        let map = try Fixture.evenMap(2)
        var m = Fixture.machine(map: map, rateLimitPercent: 100, aggregation: aggregated ? .init() : nil) {
            $0.ordering = .perPartitionKey
            $0.concurrency.isAsync = true
        }
        let hashes = map.entries.map { String($0.start + 1) }
        for i in 0..<40 {
            // Key "k" alternates shards; key "other-i" fills both lanes around it.
            m.offerRouted(Record(data: Array("k-\(i)".utf8), partitionKey: "k", explicitHashKey: hashes[i % 2]))
            m.offerRouted(Record(data: Array("o-\(i)".utf8), partitionKey: "other-\(i)", explicitHashKey: hashes[(i + 1) % 2]))
        }
        var sent: [String] = []
        var now = Self.t0
        for _ in 0..<400 where !m.isIdle {
            now += .milliseconds(50)
            while let batch = m.nextBatch(now: now).0 {
                sent += batch.records.compactMap { String(decoding: $0.record.data, as: UTF8.self) }.filter { $0.hasPrefix("k-") }
                // Kinesis stores each record on the shard its hash names.
                let answer = PutRecordsResult(records: (0..<batch.kinesisRecordCount).map { index in
                    var members = index..<(index + 1)
                    if let entries = batch.entries { members = entries[index].members }
                    let shard = map.shard(for: batch.records[members.lowerBound].hash)!
                    return .init(sequenceNumber: "\(index + 1)", shardID: shard)
                })
                _ = m.complete(batch, with: .success(answer), now: now)
            }
        }
        #expect(m.stats.delivered == 80)
        #expect(sent == (0..<40).map { "k-\($0)" }, "\(sent)")
    }
}
