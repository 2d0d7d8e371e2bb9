import Foundation
import KinesisAPI
import KinesisLocal
import KinesisPusher
import Testing
import TestSupport

/// Ordered mode (`.perPartitionKey`) when a key's head record fails for good, against KinesisLocal's poison-record
/// fault (a record whose data is listed always fails with `InternalFailure`, while the records around it go
/// through): by TTL, by attempts, at shutdown, on a stream-fatal error, and across a reshard. Each test checks
/// the order per key in what the server stored and that every record has exactly one outcome.
@Suite("Ordered mode when a key's head fails for good", .timeLimit(.minutes(1)))
struct OrderedHeadFailureTests {
    /// Records "KEY-INDEX" with partition key KEY.
    static func record(_ key: String, _ index: Int) -> Record {
        Record(text: "\(key)-\(index)", partitionKey: key)
    }

    static func text(_ record: Record) -> String { String(decoding: record.data, as: UTF8.self) }

    /// The index in a record's data "KEY-INDEX".
    static func index(_ data: [UInt8]) -> Int? {
        String(decoding: data, as: UTF8.self).split(separator: "-").last.flatMap { Int($0) }
    }

    /// Per key, the indices of its stored records in stored order: shards by id (parents before children), each
    /// in sequence order.
    static func storedOrder(_ server: KinesisLocal) throws -> [String: [Int]] {
        var order: [String: [Int]] = [:]
        for record in try server.storedRecords(stream: "s") {
            order[record.partitionKey, default: []].append(index(record.data) ?? -1)
        }
        return order
    }

    /// Failures by record data ("A-0"), with the time each was reported.
    final class Outcomes: Sendable {
        let failures = Locked<[String: [(code: RunnerError.Code, attempts: Int, at: Date, kinesisCode: String?)]]>([:])

        var handler: @Sendable (RunnerFailure) -> Void {
            { failure in
                self.failures.withLock {
                    $0[OrderedHeadFailureTests.text(failure.record), default: []].append((failure.error.code, failure.error.attempts, Date(), failure.error.kinesisError?.code.rawValue))
                }
            }
        }

        var count: Int { failures.withLock { $0.values.reduce(0) { $0 + $1.count } } }
        var names: Set<String> { Set(failures.withLock { $0.keys }) }
        func codes(_ name: String) -> [RunnerError.Code] { failures.withLock { $0[name]?.map(\.code) ?? [] } }
        func kinesisCodes(_ name: String) -> [String?] { failures.withLock { $0[name]?.map(\.kinesisCode) ?? [] } }
    }

    /// An async runner in ordered mode, unpaced (the server has no limits), telling `outcomes` of its failures.
    static func orderedRunner(
        _ server: KinesisLocal,
        _ outcomes: Outcomes,
        _ change: (inout RunnerConfiguration) -> Void
    ) throws -> Runner {
        try makeRunner(server) {
            $0.ordering = .perPartitionKey
            $0.concurrency.isAsync = true
            $0.pacing.rateLimitPercent = nil
            $0.failureHandler = outcomes.handler
            change(&$0)
        }
    }

    enum Ending: String, CaseIterable, Sendable {
        case ttl, attempts
    }

    @Test("the head fails for good (TTL or attempts); the records queued behind it follow, in order", arguments: Ending.allCases)
    func headFailsFollowersFollow(_ ending: Ending) async throws {
        try await withServer(local(shards: 2, faults: .init(poisonRecords: ["A-0"]))) { server in
            let outcomes = Outcomes()
            let runner = try Self.orderedRunner(server, outcomes) {
                switch ending {
                case .ttl: $0.retry.recordTTL = .seconds(3)
                case .attempts:
                    $0.retry.recordTTL = .seconds(30)
                    $0.retry.maxAttempts = 3
                }
            }
            // Accepted before run() starts, so the followers are queued behind A-0 whatever the machine's speed.
            try runner.trySend(Self.record("A", 0))
            if ending == .ttl {
                // The followers live 1.5 s longer than the head: time enough to go out once it expired.
                try await Task.sleep(for: .milliseconds(1500))
            }
            for i in 1..<10 { try runner.trySend(Self.record("A", i)) }
            for i in 0..<10 { try runner.trySend(Self.record("B", i)) }
            #expect(runner.stats.sent == 20)
            let (_, run) = try await withRunning(runner) {
                try await until(timeout: .seconds(20)) { runner.stats.delivered + runner.stats.failed == 20 }
            }
            try run.get()

            let stats = runner.stats
            #expect(stats.delivered == 19)
            #expect(stats.failed == 1)
            #expect(outcomes.names == ["A-0"])
            let failure = try #require(outcomes.failures.value["A-0"]?.first)
            #expect(outcomes.count == 1)
            switch ending {
            case .ttl: #expect(failure.code == .expired)
            case .attempts:
                #expect(failure.code == .attemptsExhausted)
                #expect(failure.attempts == 3)
            }
            let order = try Self.storedOrder(server)
            #expect(order["A"] == Array(1..<10))
            #expect(order["B"] == Array(0..<10))
            if ending == .ttl {
                // A-1 went out only once A-0 was done: sent while A-0 still retried, it would have been stored
                // about 1.5 s or more before A-0's failure.
                let first = try #require(try await readBack(server).first { Self.index($0.data) == 1 && $0.partitionKey == "A" })
                let arrival = try #require(first.approximateArrivalTimestamp)
                #expect(arrival.timeIntervalSince(failure.at) > -0.5, "A-1 stored \(failure.at.timeIntervalSince(arrival)) s before A-0 failed")
            }
        }
    }

    @Test("shutdown with a failing head: the head and its queued records each end once (delivered in order or shutdown), and run() returns")
    func shutdownBehindFailingHead() async throws {
        try await withServer(local(shards: 2, faults: .init(poisonRecords: ["A-0"]))) { server in
            let outcomes = Outcomes()
            let runner = try Self.orderedRunner(server, outcomes) {
                $0.retry.recordTTL = .seconds(30)
                $0.shutdownTimeout = .seconds(1)
            }
            for i in 0..<10 { try runner.trySend(Self.record("A", i)) }
            for i in 0..<10 { try runner.trySend(Self.record("B", i)) }
            var shutdownStarted = ContinuousClock.now
            let (_, run) = try await withRunning(runner) {
                // B is through and A-0 is retrying, its followers parked behind it.
                try await until(timeout: .seconds(10)) { runner.stats.delivered >= 10 && runner.stats.retries >= 2 }
                #expect(runner.stats.delivered == 10)
                #expect(outcomes.count == 0)
                shutdownStarted = ContinuousClock.now
            }
            try run.get()
            let shutdownTook = seconds(since: shutdownStarted)
            print("ordered shutdown behind a failing head: \(shutdownTook) s, stats \(runner.stats)")
            #expect(shutdownTook < 15)

            let stats = runner.stats
            #expect(stats.delivered + stats.failed == 20)
            #expect(stats.buffered == 0)
            let order = try Self.storedOrder(server)
            #expect(order["B"] == Array(0..<10))
            // A's stored records are a prefix of its followers, in order; every other A record failed with shutdown.
            let storedA = order["A"] ?? []
            #expect(storedA == Array(1..<(1 + storedA.count)))
            let unstoredA = Set((0..<10).filter { !storedA.contains($0) }.map { "A-\($0)" })
            #expect(outcomes.names.isSuperset(of: unstoredA))
            for name in outcomes.names { #expect(outcomes.codes(name) == [.shutdown], "\(name): \(outcomes.codes(name))") }
            // A call the deadline cut short may have been stored all the same (at least once): only those records
            // may be both stored and failed, and they say so.
            for name in outcomes.names.subtracting(unstoredA) {
                #expect(outcomes.kinesisCodes(name) == ["ShutdownCancelled"], "\(name) stored, yet failed with \(outcomes.kinesisCodes(name))")
            }
            #expect(stats.failed == outcomes.count)
        }
    }

    @Test("the stream is deleted while heads fail: every held record of every key fails with streamUnusable, run() ends")
    func streamDeletedBehindFailingHeads() async throws {
        try await withServer(local(shards: 2, faults: .init(poisonRecords: ["A-0", "C-0"]))) { server in
            let outcomes = Outcomes()
            let runner = try Self.orderedRunner(server, outcomes) {
                $0.retry.recordTTL = .seconds(30)
            }
            for key in ["A", "B", "C"] {
                for i in 0..<10 { try runner.trySend(Self.record(key, i)) }
            }
            let (_, run) = try await withRunning(runner) {
                try await until(timeout: .seconds(10)) { runner.stats.delivered >= 10 && runner.stats.retries >= 4 }
                #expect(runner.stats.delivered == 10)
                try await withReader(server) { try await $0.deleteStream(stream: .name("s")) }
                try await until(timeout: .seconds(10)) { runner.stats.delivered + runner.stats.failed == 30 }
            }
            do {
                try run.get()
                Issue.record("run() returned normally after the stream was deleted")
            } catch let error as RunnerError {
                #expect(error.code == .streamUnusable)
                #expect(error.kinesisError?.code == .resourceNotFound)
            }
            let stats = runner.stats
            #expect(stats.delivered == 10)
            #expect(stats.failed == 20)
            let held = Set(["A", "C"].flatMap { key in (0..<10).map { "\(key)-\($0)" } })
            #expect(outcomes.names == held)
            #expect(outcomes.count == 20)
            for name in held { #expect(outcomes.codes(name) == [.streamUnusable], "\(name): \(outcomes.codes(name))") }
            // The runner refuses new records with the same error.
            #expect(throws: RunnerError.self) { try runner.trySend(Self.record("D", 0)) }
        }
    }

    @Test("across a reshard, with record faults: per key, the stored order is the send order, parents before children")
    func orderAcrossReshard() async throws {
        try await withServer(local(shards: 2, faults: .init(recordInternalFailureRate: 0.1, seed: 3))) { server in
            let outcomes = Outcomes()
            let runner = try Self.orderedRunner(server, outcomes) {
                $0.batching.flushInterval = .milliseconds(10)
            }
            let keys = (0..<20).map { "key\($0)" }
            let perKey = 30
            let (_, run) = try await withRunning(runner) {
                for i in 0..<(perKey / 2) {
                    for key in keys { try await runner.send(Self.record(key, i)) }
                }
                try await until(timeout: .seconds(15)) { runner.stats.delivered >= keys.count * 5 }
                try server.reshard(stream: "s", shardCount: 3)
                for i in (perKey / 2)..<perKey {
                    for key in keys { try await runner.send(Self.record(key, i)) }
                }
                try await until(timeout: .seconds(20)) { runner.stats.delivered + runner.stats.failed == keys.count * perKey }
            }
            try run.get()
            #expect(outcomes.count == 0)
            #expect(runner.stats.delivered == keys.count * perKey)
            #expect(runner.stats.recovered > 0)

            let shards = try await readShards(server)
            let parents = Set(shards.filter { $0.shard.isOpen == false }.map(\.shard.shardID))
            // 2 → 3 splits both shards and merges the two middle pieces: both originals and those pieces close.
            #expect(parents.count == 4)
            #expect(parents.isSuperset(of: ["shardId-000000000000", "shardId-000000000001"]))
            var order: [String: [(index: Int, inParent: Bool)]] = [:]
            for (shard, records) in shards {
                for record in records {
                    order[record.partitionKey, default: []].append((Self.index(record.data) ?? -1, parents.contains(shard.shardID)))
                }
            }
            var inChildren = 0
            for key in keys {
                let stored = order[key] ?? []
                #expect(stored.map(\.index) == Array(0..<perKey), "\(key): \(stored.map(\.index))")
                let parentIndices = stored.filter(\.inParent).map(\.index)
                let childIndices = stored.filter { !$0.inParent }.map(\.index)
                inChildren += childIndices.count
                if let lastInParent = parentIndices.max(), let firstInChild = childIndices.min() {
                    #expect(lastInParent < firstInChild, "\(key): a child holds a record older than one in its parent")
                }
            }
            // Both sides of the reshard hold records: the test crossed it.
            #expect(inChildren >= keys.count * perKey / 2)
            #expect(inChildren < keys.count * perKey)
        }
    }
}
