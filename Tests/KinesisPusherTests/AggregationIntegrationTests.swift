import KinesisAPI
import KinesisAggregation
import KinesisLocal
import Synchronization
import Testing
import TestSupport

@testable import KinesisPusher

/// What a KCL consumer reads from stream "s": every shard's records (parents first) deaggregated with the shard's
/// hash range; aggregates holding a record outside it are dropped whole.
struct KCLView {
    struct Item: Hashable {
        var location: Location
        var partitionKey: String
        /// Only known for records read out of an aggregate (GetRecords does not return it).
        var explicitHashKey: String?
        var data: [UInt8]
    }

    struct Location: Hashable {
        var shardID: String
        var sequenceNumber: String
        var subSequenceNumber: Int?
    }

    /// The user records the KCL hands out, in read order.
    var items: [Item] = []
    var storedKinesisRecords = 0
    /// Kept aggregates.
    var aggregates = 0
    /// Aggregates the KCL drops, with their records.
    var dropped: [[KinesisAggregation.UserRecord]] = []

    init(_ shards: [(shard: Shard, records: [GetRecordsResult.Record])]) {
        for (shard, records) in shards {
            let range = shard.hashKeyRange.startingHashKey.value...shard.hashKeyRange.endingHashKey.value
            for record in records {
                storedKinesisRecords += 1
                switch KinesisAggregation.consume(record.data, shardHashRange: range) {
                case .plain:
                    items.append(Item(
                        location: Location(shardID: shard.shardID, sequenceNumber: record.sequenceNumber),
                        partitionKey: record.partitionKey,
                        data: record.data
                    ))
                case .aggregate(let members):
                    // Checked here without `consume`: a kept aggregate never spans shards.
                    #expect(members.allSatisfy { shard.hashKeyRange.contains(Self.routingKey($0)) }, "a kept aggregate spans shards")
                    aggregates += 1
                    for (index, member) in members.enumerated() {
                        items.append(Item(
                            location: Location(shardID: shard.shardID, sequenceNumber: record.sequenceNumber, subSequenceNumber: index),
                            partitionKey: member.partitionKey,
                            explicitHashKey: member.explicitHashKey,
                            data: member.data
                        ))
                    }
                case .dropped(let members):
                    #expect(!members.allSatisfy { shard.hashKeyRange.contains(Self.routingKey($0)) }, "a dropped aggregate fits its shard")
                    dropped.append(members)
                }
            }
        }
    }

    /// The hash key a user record routes by, as KinesisAPI computes it for a Kinesis record.
    static func routingKey(_ record: KinesisAggregation.UserRecord) -> HashKey {
        record.explicitHashKey.flatMap { HashKey(decimal: $0) } ?? HashKey(partitionKey: record.partitionKey)
    }

    /// Checks each `put()` result: its location holds that very record, kept by the KCL; no two share one.
    func check(_ results: [PutResult], of records: [Record], sourceLocation: SourceLocation = #_sourceLocation) {
        let byLocation = Dictionary(items.map { ($0.location, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(results.count == records.count, sourceLocation: sourceLocation)
        for (record, result) in zip(records, results) {
            let location = Location(shardID: result.shardID, sequenceNumber: result.sequenceNumber, subSequenceNumber: result.subSequenceNumber)
            guard let item = byLocation[location] else {
                Issue.record("record '\(record.partitionKey)' is not at \(location) in the KCL view", sourceLocation: sourceLocation)
                continue
            }
            #expect(item.partitionKey == record.partitionKey && item.data == record.data, sourceLocation: sourceLocation)
            if result.subSequenceNumber != nil { #expect(item.explicitHashKey == record.explicitHashKey, sourceLocation: sourceLocation) }
        }
        let locations = Set(results.map { Location(shardID: $0.shardID, sequenceNumber: $0.sequenceNumber, subSequenceNumber: $0.subSequenceNumber) })
        #expect(locations.count == results.count, sourceLocation: sourceLocation)
    }
}

/// The runner with aggregation and ordering against a KinesisLocal: read back with GetRecords and the KCL's
/// deaggregation.
@Suite("Aggregation and ordering against KinesisLocal", .timeLimit(.minutes(1)))
struct AggregationIntegrationTests {
    /// Aggregating, as fast as the server answers.
    static func aggregating(_ configuration: inout RunnerConfiguration) {
        configuration.aggregation = .init()
        configuration.pacing.rateLimitPercent = nil
        configuration.concurrency.isAsync = true
        configuration.buffer.size = 4000
        configuration.batching.flushInterval = .milliseconds(10)
    }

    /// `count` records with distinct payloads (`prefix-i|…`), 700 partition keys, every 11th routed by an
    /// explicit hash key, payloads of 0–96 bytes more, and every 500th of 60 kB (too large to share an aggregate).
    static func sample(_ count: Int, prefix: String) -> [Record] {
        (0..<count).map { i in
            Record(
                data: Array("\(prefix)-\(i)|".utf8) + [UInt8](repeating: UInt8(i % 251), count: i % 500 == 7 ? 60_000 : i % 97),
                partitionKey: "key-\(i % 700)",
                explicitHashKey: i % 11 == 0 ? String(UInt128(i) &* 0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835) : nil
            )
        }
    }

    /// `put`s every record at once; the results in record order.
    static func putAll(_ runner: Runner, _ records: [Record]) async throws -> [PutResult] {
        try await withThrowingTaskGroup(of: (Int, PutResult).self) { group in
            for (index, record) in records.enumerated() { group.addTask { (index, try await runner.put(record)) } }
            var results = [PutResult?](repeating: nil, count: records.count)
            for try await (index, result) in group { results[index] = result }
            return results.map { $0! }
        }
    }

    @Test("aggregated push to 4 shards: GetRecords and consume give every record once, intact, where put() said")
    func readBackExactlyOnce() async throws {
        try await withServer(local(shards: 4)) { server in
            let runner = try makeRunner(server, Self.aggregating)
            #expect(try await runner.checkShards() == 4)
            let records = Self.sample(3000, prefix: "once")
            let (results, run) = try await withRunning(runner) { try await Self.putAll(runner, records) }
            try run.get()
            let view = KCLView(try await readShards(server))
            let stats = runner.stats
            print("aggregated read-back: \(records.count) records in \(view.storedKinesisRecords) Kinesis records (\(view.aggregates) aggregates), \(stats.requests) calls")
            #expect(view.dropped.isEmpty)
            #expect(view.items.count == records.count)
            #expect(Set(view.items.map(\.data)) == Set(records.map(\.data)))
            view.check(results, of: records)
            #expect(stats.delivered == records.count)
            #expect(stats.failed == 0)
            #expect(stats.reaggregated == 0)
            #expect(stats.deliveredKinesisRecords == view.storedKinesisRecords)
            #expect(server.streamStats?.accepted == view.storedKinesisRecords)
            #expect(stats.aggregated == results.filter { $0.subSequenceNumber != nil }.count)
            #expect(results.filter { $0.subSequenceNumber == nil }.count >= records.count / 500)  // the large ones went raw
            #expect(view.storedKinesisRecords < records.count / 10)
        }
    }

    @Test("aggregation across a reshard (4 → 8, 4 → 3) with a stale map: the KCL view loses nothing, drops only what was resent", arguments: [8, 3])
    func reshard(to target: Int) async throws {
        try await withServer(local(shards: 4)) { server in
            let runner = try makeRunner(server) {
                Self.aggregating(&$0)
                $0.shardRefreshInterval = .seconds(60)  // only answers from unexpected shards refresh the map
                // Each phase's 2,000 records fill one batch (half the buffer) before it goes, however slowly the
                // puts arrive on a loaded machine: a first small batch could refresh the map before the rest is
                // packed, leaving no aggregate packed by the stale map.
                $0.batching.flushInterval = .seconds(5)
            }
            #expect(try await runner.checkShards() == 4)
            let records = Self.sample(2000, prefix: "before") + Self.sample(2000, prefix: "after")
            let (results, run) = try await withRunning(runner) {
                var results = try await Self.putAll(runner, Array(records[..<2000]))
                // The runner still predicts the 4 old shards: the next aggregates land on children that may own
                // only some of their records.
                try server.reshard(stream: "s", shardCount: target)
                results += try await Self.putAll(runner, Array(records[2000...]))
                return results
            }
            try run.get()
            let view = KCLView(try await readShards(server))
            let stats = runner.stats
            let kept = Dictionary(grouping: view.items, by: \.data)
            let lost = records.filter { kept[$0.data] == nil }.count
            let duplicates = view.items.count - kept.count
            let droppedRecords = view.dropped.map(\.count).reduce(0, +)
            print(
                "reshard 4 → \(target): \(view.dropped.count) aggregates (\(droppedRecords) records) dropped by the KCL, \(stats.reaggregated) records reaggregated, \(lost) lost, \(duplicates) duplicates, \(view.storedKinesisRecords) Kinesis records stored"
            )
            #expect(lost == 0)
            #expect(duplicates == 0)
            #expect(stats.reaggregated > 0)
            #expect(view.dropped.count > 0)
            // Exactly the records of the dropped aggregates were packed again and resent.
            #expect(droppedRecords == stats.reaggregated)
            view.check(results, of: records)
            #expect(stats.delivered == records.count)
            #expect(stats.failed == 0)
            #expect(runner.state.withLock { $0.map?.count } == target)
        }
    }

    @Test("ordered mode, async, ~20 % of Kinesis records throttled: each key's records read back once each, in send order", arguments: [false, true])
    func orderedUnderThrottling(aggregated: Bool) async throws {
        try await withServer(local(shards: 4, faults: .init(recordThrottleRate: 0.2, seed: 9))) { server in
            let log = FailureLog()
            let runner = try makeRunner(server) {
                $0.ordering = .perPartitionKey
                $0.aggregation = aggregated ? .init(maxCount: 8) : nil  // many small aggregates: many to throttle
                $0.concurrency.isAsync = true
                $0.concurrency.maxConcurrentPuts = 4
                $0.pacing.rateLimitPercent = nil
                $0.buffer.size = 2000
                $0.batching.flushInterval = .milliseconds(5)
                $0.retry.baseDelay = .milliseconds(5)
                $0.retry.maxDelay = .milliseconds(40)
                $0.failureHandler = log.handler
            }
            #expect(try await runner.checkShards() == 4)
            let producers = 4
            let keysPerProducer = 40
            let rounds = 20
            let total = producers * keysPerProducer * rounds
            try await withRunning(runner) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    // Each producer sends its keys' records round by round: a key's records in index order.
                    for producer in 0..<producers {
                        group.addTask {
                            for round in 0..<rounds {
                                for key in 0..<keysPerProducer {
                                    try await runner.send(Record(text: "\(round)", partitionKey: "p\(producer)-k\(key)"))
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                try await until(timeout: .seconds(20)) { runner.stats.delivered + runner.stats.failed == total }
            }.run.get()
            let view = KCLView(try await readShards(server))
            var order: [String: [Int]] = [:]
            for item in view.items { order[item.partitionKey, default: []].append(Int(String(decoding: item.data, as: UTF8.self)) ?? -1) }
            let stats = runner.stats
            let serverThrottled = server.streamStats?.throttled ?? 0
            print(
                "ordered \(aggregated ? "aggregated" : "raw") under 20 % throttling: \(stats.throttled) record attempts throttled (server: \(serverThrottled) Kinesis records), \(stats.retries) retries, \(view.storedKinesisRecords) Kinesis records, \(stats.requests) calls"
            )
            #expect(log.count == 0)
            #expect(stats.delivered == total)
            #expect(view.dropped.isEmpty)
            #expect(view.items.count == total)
            #expect(order.count == producers * keysPerProducer)
            for (key, indices) in order { #expect(indices == Array(0..<rounds), "\(key): \(indices)") }
            #expect(serverThrottled > 0)
            #expect(stats.throttled >= serverThrottled)
            if aggregated { #expect(view.aggregates > 0) }
        }
    }
}
