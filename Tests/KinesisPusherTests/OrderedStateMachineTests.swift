import Backoff
import KinesisAPI
import KinesisAggregation
import Testing
import TestSupport

@testable import KinesisPusher

/// Ordered mode (`.perPartitionKey`) in the state machine: one Kinesis record per key per call, a busy key's
/// later records wait, retries go first.
@Suite("RunnerStateMachine in ordered mode")
struct OrderedStateMachineTests {
    let t0 = Fixture.t0

    static func ordered(map: ShardMap?, aggregation: RunnerConfiguration.Aggregation? = nil) -> RunnerStateMachine {
        Fixture.machine(map: map, aggregation: aggregation) {
            $0.ordering = .perPartitionKey
            $0.concurrency.isAsync = true
            $0.retry.baseDelay = .milliseconds(10)
            $0.retry.maxDelay = .milliseconds(10)
        }
    }

    /// "key/index" records, their text as the key's index.
    static func record(_ key: String, _ index: Int) -> Record { Record(text: "\(key)/\(index)", partitionKey: key) }

    static func names(_ batch: RunnerStateMachine.Batch) -> [String] {
        batch.records.map { String(decoding: $0.record.data, as: UTF8.self) }
    }

    @Test("raw: a call carries one record per key; a key in flight sends nothing more (other keys do); a failed one's later records wait for its retry to succeed")
    func rawOneRecordPerKey() throws {
        var m = Self.ordered(map: try Fixture.evenMap(4))
        for key in ["a", "b", "c", "d", "e"] { for i in 0..<3 { m.offerRouted(Self.record(key, i)) } }
        var now = t0 + .milliseconds(100)
        let first = try #require(m.nextBatch(now: now).0)
        #expect(Self.names(first).sorted() == ["a/0", "b/0", "c/0", "d/0", "e/0"])  // lane by lane
        // While those are in flight, only a new key's first record goes.
        for i in 0..<2 { m.offerRouted(Self.record("f", i)) }
        let second = try #require(m.nextBatch(now: now).0)
        #expect(Self.names(second) == ["f/0"])
        #expect(m.nextBatch(now: now).0 == nil)
        // b/0 fails; the others are stored.
        let index = try #require(first.records.firstIndex { $0.record.partitionKey == "b" })
        _ = m.complete(first, with: .success(Fixture.answer(first, failure: { $0 == index ? "InternalFailure" : nil })), now: now)
        let third = try #require(m.nextBatch(now: now).0)
        #expect(Self.names(third).sorted() == ["a/1", "c/1", "d/1", "e/1"])  // not b/1 (b/0 backs off), not f/1 (f/0 in flight)
        now += .milliseconds(11)
        let retry = try #require(m.nextBatch(now: now).0)
        #expect(Self.names(retry) == ["b/0"])  // the retry, and b/1 not in the same call
        #expect(retry.records[0].attempts == 2)
        // b/1 waits until the retry is stored.
        #expect(m.nextBatch(now: now).0 == nil)
        _ = m.complete(retry, with: .success(Fixture.answer(retry)), now: now)
        #expect(Self.names(try #require(m.nextBatch(now: now).0)) == ["b/1"])
    }

    @Test("aggregated: a key's records in one call share one aggregate; its later records wait while it is in flight")
    func aggregatedOneAggregatePerKey() throws {
        let map = try Fixture.evenMap(2)
        var m = Self.ordered(map: map, aggregation: .init(maxCount: 5))
        // Three keys of shard 0, interleaved: a 5-member aggregate fills with a/0 b/0 c/0 a/1 b/1.
        let keys = Fixture.keys(3, routedTo: shardID(0), by: map, prefix: "ordered-")
        for i in 0..<4 { for key in keys { m.offerRouted(Self.record(key, i)) } }
        let now = t0 + .milliseconds(100)
        var sent: [String: Int] = [:]
        let batch = try #require(m.nextBatch(now: now).0)
        try Self.checkNext(batch, map: map, limits: m.limits, sent: &sent)
        // c/1 finds c's aggregate full: c waits for the next call rather than open a second Kinesis record.
        #expect(batch.entries?.map(\.members.count) == [5])
        #expect(Self.names(batch) == ["\(keys[0])/0", "\(keys[1])/0", "\(keys[2])/0", "\(keys[0])/1", "\(keys[1])/1"])
        #expect(m.nextBatch(now: now).0 == nil)  // every key is in flight
        _ = m.complete(batch, with: .success(Fixture.answer(batch)), now: now)
        let next = try #require(m.nextBatch(now: now).0)
        try Self.checkNext(next, map: map, limits: m.limits, sent: &sent)
        #expect(next.records.count == 5)
        _ = m.complete(next, with: .success(Fixture.answer(next)), now: now)
        let last = try #require(m.nextBatch(now: now).0)
        try Self.checkNext(last, map: map, limits: m.limits, sent: &sent)
        #expect(sent == [keys[0]: 4, keys[1]: 4, keys[2]: 4])
    }

    /// Checks an ordered aggregated call: each key's records in it are its next ones after `sent[key]`, in order,
    /// all in one Kinesis record.
    static func checkNext(_ batch: RunnerStateMachine.Batch, map: ShardMap, limits: RunnerStateMachine.Limits, sent: inout [String: Int]) throws {
        try Fixture.check(batch, map: map, limits: limits, maxSize: 51_200)
        let entries = try #require(batch.entries)
        for key in Set(batch.records.map(\.record.partitionKey)) {
            let holding = entries.filter { entry in batch.records[entry.members].contains { $0.record.partitionKey == key } }
            #expect(holding.count == 1, "\(key) is in \(holding.count) Kinesis records of one call")
            let mine = Self.names(batch).filter { $0.hasPrefix("\(key)/") }
            let first = sent[key, default: 0]
            #expect(mine == (first..<(first + mine.count)).map { "\(key)/\($0)" })
            sent[key] = first + mine.count
        }
    }

    @Test("aggregated: with no count limit all of a key's buffered records go in its one aggregate")
    func aggregatedWholeKey() throws {
        let map = try Fixture.evenMap(4)
        var m = Self.ordered(map: map, aggregation: .init())
        for i in 0..<6 { for key in ["x", "y", "z", "w"] { m.offerRouted(Self.record(key, i)) } }
        let batch = try #require(m.nextBatch(now: t0 + .milliseconds(100)).0)
        try Fixture.check(batch, map: map, limits: m.limits, maxSize: 51_200)
        #expect(batch.records.count == 24)
        for key in ["x", "y", "z", "w"] {
            let holding = batch.entries!.filter { entry in batch.records[entry.members].contains { $0.record.partitionKey == key } }
            #expect(holding.count == 1)
            #expect(holding.first.map { batch.records[$0.members].filter { $0.record.partitionKey == key }.count } == 6)
        }
    }

    @Test("ordered: a key whose aggregate waits for an unknown shard stays busy until it is settled, and a resend goes before its later records")
    func heldAggregateHoldsItsKey() throws {
        let map = try Fixture.evenMap(2)
        let key = Fixture.keys(1, routedTo: shardID(0), by: map, prefix: "held-")[0]
        var landing = try AggregationStateMachineTests.Landing(
            ordered: true,
            maxCount: 200,
            extra: (0..<3).map { Self.record(key, $0) }
        )
        // The extra records joined shard 0's aggregate (it holds every record of the key buffered then).
        let held = landing.batch.records[landing.batch.entries![landing.index].members]
        #expect(held.filter { $0.record.partitionKey == key }.count == 3)
        landing.machine.offerRouted(Self.record(key, 3))
        _ = landing.answer(storingOn: shardID(2))
        var m = landing.machine
        let now = t0 + .milliseconds(200)
        #expect(m.nextBatch(now: now).0 == nil)  // key/3 waits: its earlier records are not settled
        // Shard 2 owns only part of the aggregate's records: they are resent, key/3 after them (in the same aggregate).
        #expect(m.install(try Fixture.evenMap(4, firstIndex: 2), now: now).outcomes.isEmpty)
        let resend = try #require(m.nextBatch(now: now).0)
        #expect(Self.names(resend).filter { $0.hasPrefix("\(key)/") } == (0..<4).map { "\(key)/\($0)" })
        let holding = resend.entries!.filter { entry in resend.records[entry.members].contains { $0.record.partitionKey == key } }
        #expect(holding.count == 1)
        #expect(m.stats.reaggregated == landing.members.count)
    }

    @Test("random answers, failures and completion order: every key's records are stored once, in send order", arguments: [false, true])
    func randomized(aggregated: Bool) throws {
        var generator = SplitMix64(seed: aggregated ? 17 : 71)
        let map = try Fixture.evenMap(4)
        var m = Fixture.machine(map: map, aggregation: aggregated ? .init(maxSize: 600, maxCount: 7) : nil) {
            $0.ordering = .perPartitionKey
            $0.concurrency.isAsync = true
            $0.concurrency.maxConcurrentPuts = 4
            $0.batching.maxRecordsPerRequest = 12
            $0.retry.baseDelay = .milliseconds(1)
            $0.retry.maxDelay = .milliseconds(4)
            $0.batching.flushInterval = .milliseconds(1)
        }
        let keys = (0..<20).map { "key-\($0)" }
        let perKey = 15
        for i in 0..<perKey { for key in keys { m.offerRouted(Self.record(key, i), now: t0) } }
        var stored: [String: [String]] = [:]
        var inFlight: [RunnerStateMachine.Batch] = []
        var now = t0
        var sequence = 0
        var steps = 0
        while m.stats.delivered < keys.count * perKey, steps < 100_000 {
            steps += 1
            now += .milliseconds(1)
            while let batch = m.nextBatch(now: now).0 {
                // No key of the call is in another call in flight, and a call holds one Kinesis record per key.
                let busy = Set(inFlight.flatMap { $0.records.map(\.record.partitionKey) })
                #expect(busy.isDisjoint(with: batch.records.map(\.record.partitionKey)))
                var owners: [String: Int] = [:]
                batch.forEachEntry { index, members, _, _ in
                    for record in batch.records[members] {
                        #expect(owners.updateValue(index, forKey: record.record.partitionKey) ?? index == index)
                    }
                }
                if aggregated { try Fixture.check(batch, map: map, limits: m.limits, maxSize: 600) }
                inFlight.append(batch)
            }
            guard !inFlight.isEmpty, Bool.random(using: &generator) else { continue }
            // Answer a random call in flight: each Kinesis record stored, throttled or failed.
            let batch = inFlight.remove(at: Int.random(in: 0..<inFlight.count, using: &generator))
            var outcomes: [Bool] = []
            batch.forEachEntry { _, _, _, _ in outcomes.append(Int.random(in: 0..<10, using: &generator) >= 3) }
            let answer = Fixture.answer(batch, base: sequence, failure: { index in
                outcomes[index] ? nil : (index % 2 == 0 ? "ProvisionedThroughputExceededException" : "InternalFailure")
            })
            sequence += outcomes.count
            batch.forEachEntry { index, members, _, _ in
                guard outcomes[index] else { return }
                for record in batch.records[members] {
                    stored[record.record.partitionKey, default: []].append(String(decoding: record.record.data, as: UTF8.self))
                }
            }
            let effects = m.complete(batch, with: .success(answer), now: now)
            #expect(effects.outcomes.allSatisfy { if case .success = $0.result { true } else { false } })
        }
        print("ordered \(aggregated ? "aggregated" : "raw"): \(m.stats.requests) calls, \(m.stats.retries) retries, \(m.stats.throttled) throttled, \(steps) steps")
        #expect(m.stats.delivered == keys.count * perKey)
        #expect(m.stats.retries > 0)
        for key in keys { #expect(stored[key] == (0..<perKey).map { "\(key)/\($0)" }, "\(key): \(stored[key] ?? [])") }
        #expect(m.isIdle)
    }
}
