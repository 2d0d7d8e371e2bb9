import KinesisAPI
import Testing
import TestSupport

@testable import KinesisPusher

/// Ordered aggregated mode when a key's heads (records unparked to the front of the buffer, up to 512 at once) still
/// wait there and more of its records are parked: the state machine alone, since the run loop leaves no way to hold
/// the heads in the buffer at will.
///
/// Both paths once let the newer parked records go first (k/512 … before k/1 …): `unpark` moved parked records to
/// the front whenever the key had nothing in flight, also while older heads still waited there.
@Suite("RunnerStateMachine: ordered aggregated heads waiting in the buffer")
struct OrderedExpiryStateMachineTests {
    static func record(_ key: String, _ index: Int) -> Record { Record(text: "\(key)/\(index)", partitionKey: key) }

    /// One shard, ordered and aggregating, two calls in flight at most (so heads can be held in the buffer).
    static func machine(
        aggregation: RunnerConfiguration.Aggregation,
        _ change: (inout RunnerConfiguration) -> Void = { _ in }
    ) throws -> RunnerStateMachine {
        Fixture.machine(map: try Fixture.evenMap(1), aggregation: aggregation) {
            $0.ordering = .perPartitionKey
            $0.concurrency.isAsync = true
            $0.concurrency.maxConcurrentPuts = 2
            change(&$0)
        }
    }

    /// Sends and stores every batch the machine has from `now` on (`step` apart); returns `key`'s records in the
    /// order they went out.
    static func drain(_ m: inout RunnerStateMachine, key: String, from now: ContinuousClock.Instant, step: Duration = .zero) -> [Int] {
        var sent: [Int] = []
        var now = now
        while let batch = m.nextBatch(now: now).0 {
            sent += names(batch, key: key)
            _ = m.complete(batch, with: .success(Fixture.answer(batch)), now: now)
            now += step
        }
        return sent
    }

    static func names(_ batch: RunnerStateMachine.Batch, key: String) -> [Int] {
        batch.records.filter { $0.record.partitionKey == key }.compactMap {
            String(decoding: $0.record.data, as: UTF8.self).split(separator: "/").last.flatMap { Int($0) }
        }
    }

    @Test("a record parked behind its key's record in flight fails when its own time to live ends, not when the key frees")
    func parkedRecordExpires() throws {
        let t0 = Fixture.t0
        var m = Fixture.machine(map: try Fixture.evenMap(1), aggregation: nil) {
            $0.ordering = .perPartitionKey
            $0.retry.recordTTL = .seconds(1)
            // A second call may go, so the batch selection meets k/1 and k/2 and parks them.
            $0.concurrency.isAsync = true
            $0.concurrency.maxConcurrentPuts = 2
        }
        m.offerRouted(Self.record("k", 0), now: t0)
        let head = try #require(m.nextBatch(now: t0 + .milliseconds(100)).0)
        let parked = m.offerRouted(Self.record("k", 1), now: t0 + .milliseconds(200))
        let behind = m.offerRouted(Self.record("k", 2), now: t0 + .milliseconds(600))
        #expect(m.nextBatch(now: t0 + .milliseconds(700)).0 == nil, "k/1 and k/2 wait behind k/0")
        #expect(m.bufferedCount == 2 && m.ordering.parkedCount == 2)
        #expect(m.nextExpiry == t0 + .milliseconds(1200))
        // k/0's call hangs past k/1's deadline (a slow endpoint): k/1 fails on time, k/2 stays parked.
        let first = Fixture.failed(m.nextBatch(now: t0 + .milliseconds(1201)).1)
        #expect(Array(first.keys) == [parked])
        #expect(first[parked]?.code == .expired)
        #expect(first[parked]?.message.contains("waited behind an earlier record of its partition key") == true, "\(String(describing: first[parked]))")
        #expect(m.nextExpiry == t0 + .milliseconds(1600))
        #expect(Array(Fixture.failed(m.nextBatch(now: t0 + .milliseconds(1601)).1).keys) == [behind])
        _ = m.complete(head, with: .success(Fixture.answer(head)), now: t0 + .milliseconds(1700))
        #expect(m.isIdle)
    }

    @Test("an expired head must free its key only after the key's other waiting heads: the parked records stay behind them")
    func expiredHeadKeepsOrder() throws {
        let t0 = Fixture.t0
        var m = try Self.machine(aggregation: .init()) {
            $0.retry.recordTTL = .seconds(1)
            $0.retry.baseDelay = .milliseconds(100)
            $0.retry.maxDelay = .milliseconds(100)
        }
        m.offerRouted(Self.record("k", 0), now: t0)
        let first = try #require(m.nextBatch(now: t0 + .milliseconds(100)).0)
        #expect(Self.names(first, key: "k") == [0])

        // While k/0 is in flight, 600 more of k arrive (they park) and j/0 takes the second slot.
        let later = t0 + .milliseconds(500)
        for i in 1...600 { m.offerRouted(Self.record("k", i), now: later) }
        m.offerRouted(Self.record("j", 0), now: later)
        let flushed = later + .milliseconds(100)
        let other = try #require(m.nextBatch(now: flushed).0)
        #expect(other.records.map(\.record.partitionKey) == ["j"])
        // k/0 fails (an entry error, so the in-flight limit stays 2) and backs off; m/0 takes its slot.
        _ = m.complete(first, with: .success(Fixture.answer(first, failure: { _ in "InternalFailure" })), now: flushed)
        m.offerRouted(Self.record("m", 0), now: later)
        let third = try #require(m.nextBatch(now: flushed).0)
        #expect(third.records.map(\.record.partitionKey) == ["m"])

        // k/0's retry comes due: k's 512 oldest (k/0 … k/511) go to the buffer as heads, k/512 … k/600 stay
        // parked. Both slots are busy, so the heads wait there.
        #expect(m.nextBatch(now: flushed + .milliseconds(150)).0 == nil)
        // k/0's time to live runs out while it waits.
        let expired = m.nextBatch(now: t0 + .milliseconds(1010))
        #expect(expired.0 == nil)
        #expect(expired.1.outcomes.map { (try? $0.result.get()) == nil } == [true])
        #expect(m.stats.failed == 1)

        _ = m.complete(other, with: .success(Fixture.answer(other)), now: t0 + .milliseconds(1010))
        _ = m.complete(third, with: .success(Fixture.answer(third)), now: t0 + .milliseconds(1010))
        let sent = Self.drain(&m, key: "k", from: t0 + .milliseconds(1020), step: .milliseconds(1))
        #expect(sent == Array(1...600), "k went out as \(sent.prefix(3)) … (\(sent.count) records)")
    }

    @Test("a key's call completing while some of its heads still wait in the buffer (its aggregate was full) must leave the parked records behind them")
    func completionWithHeadsWaiting() throws {
        let t0 = Fixture.t0
        var m = try Self.machine(aggregation: .init(maxCount: 5))
        m.offerRouted(Self.record("k", 0), now: t0)
        let first = try #require(m.nextBatch(now: t0 + .milliseconds(100)).0)
        var sent = Self.names(first, key: "k")
        let later = t0 + .milliseconds(500)
        for i in 1...600 { m.offerRouted(Self.record("k", i), now: later) }
        m.offerRouted(Self.record("j", 0), now: later)
        let now = later + .milliseconds(100)
        let other = try #require(m.nextBatch(now: now).0)
        #expect(other.records.map(\.record.partitionKey) == ["j"])
        // k/0 is stored: k/1 … k/512 go to the buffer as heads; the next call takes five of them (a full aggregate).
        _ = m.complete(first, with: .success(Fixture.answer(first)), now: now)
        let five = try #require(m.nextBatch(now: now).0)
        #expect(Self.names(five, key: "k") == Array(1...5))
        sent += Self.names(five, key: "k")
        // Both slots are busy; when the five are stored, k/6 … k/512 still wait in the buffer.
        #expect(m.nextBatch(now: now).0 == nil)
        _ = m.complete(five, with: .success(Fixture.answer(five)), now: now)
        _ = m.complete(other, with: .success(Fixture.answer(other)), now: now)
        sent += Self.drain(&m, key: "k", from: now)
        #expect(sent == Array(0...600), "k went out as \(sent.prefix(8)) … (\(sent.count) records)")
    }

    @Test("a retry of the key that comes due while its newer heads wait in the buffer goes before them, the newest parked records after")
    func retryBeforeWaitingHeads() throws {
        let t0 = Fixture.t0
        var m = try Self.machine(aggregation: .init(maxCount: 5)) {
            $0.retry.baseDelay = .milliseconds(100)
            $0.retry.maxDelay = .milliseconds(100)
        }
        m.offerRouted(Self.record("k", 0), now: t0)
        let first = try #require(m.nextBatch(now: t0 + .milliseconds(100)).0)
        var sent = Self.names(first, key: "k")
        let later = t0 + .milliseconds(500)
        for i in 1...600 { m.offerRouted(Self.record("k", i), now: later) }
        m.offerRouted(Self.record("j", 0), now: later)
        let now = later + .milliseconds(100)
        let other = try #require(m.nextBatch(now: now).0)
        _ = m.complete(first, with: .success(Fixture.answer(first)), now: now)
        let five = try #require(m.nextBatch(now: now).0)
        #expect(Self.names(five, key: "k") == Array(1...5))
        // The five fail and back off while k/6 … k/512 wait in the buffer; no call looks at the buffer meanwhile.
        _ = m.complete(five, with: .success(Fixture.answer(five, failure: { _ in "InternalFailure" })), now: now)
        let at = now + .milliseconds(150)
        _ = m.complete(other, with: .success(Fixture.answer(other)), now: at)
        sent += Self.drain(&m, key: "k", from: at, step: .milliseconds(1))
        #expect(m.stats.retries == 5)
        #expect(sent == Array(0...600), "k went out as \(sent.prefix(8)) … (\(sent.count) records)")
    }
}
