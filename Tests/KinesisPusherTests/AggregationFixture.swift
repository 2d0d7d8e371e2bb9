import KinesisAPI
import KinesisAggregation
import Testing
import TestSupport

@testable import KinesisPusher

/// Shard maps, routed records and PutRecords answers for driving ``RunnerStateMachine`` with aggregation and
/// ordering, without I/O.
enum Fixture {
    static let t0 = ContinuousClock.now

    /// Open shards over `ranges`, named `shardID(firstIndex)`, `shardID(firstIndex + 1)`, …
    static func map(_ ranges: [Shard.HashKeyRange], firstIndex: Int = 0) throws -> ShardMap {
        ShardMap(openShards: try shards(ranges.enumerated().map { index, range in
            (id: shardID(firstIndex + index), start: range.startingHashKey.value, end: range.endingHashKey.value, open: true)
        }))
    }

    /// The even split into `count` shards, as a stream of that many shards has it.
    static func evenMap(_ count: Int, firstIndex: Int = 0) throws -> ShardMap {
        try map(evenSplit(count), firstIndex: firstIndex)
    }

    /// The hash that routes `record`, as the runner computes it.
    static func hash(_ record: Record) -> UInt128 {
        record.explicitHashKey.flatMap { HashKey(decimal: $0) }?.value ?? HashKey(partitionKey: record.partitionKey).value
    }

    /// `count` partition keys `prefix0`, `prefix1`, … (skipping others) that `map` routes to `shard`.
    static func keys(_ count: Int, routedTo shard: String, by map: ShardMap, prefix: String = "key-") -> [String] {
        var keys: [String] = []
        var index = 0
        while keys.count < count {
            let key = "\(prefix)\(index)"
            if map.shard(for: HashKey(partitionKey: key).value) == shard { keys.append(key) }
            index += 1
        }
        return keys
    }

    /// A machine with `map` installed, aggregating (unless `aggregation` is nil), with room for 10,000 records
    /// and no rate limit unless asked.
    static func machine(
        map: ShardMap?,
        rateLimitPercent: Double? = nil,
        aggregation: RunnerConfiguration.Aggregation? = .init(),
        _ change: (inout RunnerConfiguration) -> Void = { _ in }
    ) -> RunnerStateMachine {
        var configuration = RunnerConfiguration(buffer: .init(size: 10_000), concurrency: .init(maxConcurrentPuts: 10))
        configuration.aggregation = aggregation
        change(&configuration)
        var machine = RunnerStateMachine(limits: .init(configuration), rateLimitPercent: rateLimitPercent)
        if let map { _ = machine.install(map, now: t0) }
        return machine
    }

    /// The answer to `batch`: Kinesis record `i` fails with the code `failure(i)` gives, or is stored on
    /// `shard(i, predicted shard)` with sequence number `base + i`.
    static func answer(
        _ batch: RunnerStateMachine.Batch,
        base: Int = 1000,
        shard: (Int, String?) -> String? = { $1 },
        failure: (Int) -> String? = { _ in nil }
    ) -> PutRecordsResult {
        var entries: [PutRecordsResult.Entry] = []
        batch.forEachEntry { index, _, _, predicted in
            if let code = failure(index) {
                entries.append(.init(errorCode: code, errorMessage: "injected"))
            } else {
                entries.append(.init(sequenceNumber: String(base + index), shardID: shard(index, predicted) ?? shardID(0)))
            }
        }
        return PutRecordsResult(records: entries)
    }

    /// Delivered records' results by record id.
    static func delivered(_ effects: RunnerStateMachine.Effects) -> [UInt64: PutResult] {
        var results: [UInt64: PutResult] = [:]
        for outcome in effects.outcomes {
            if case .success(let result) = outcome.result { results[outcome.record.id] = result }
        }
        return results
    }

    /// Failed records' errors by record id.
    static func failed(_ effects: RunnerStateMachine.Effects) -> [UInt64: RunnerError] {
        var errors: [UInt64: RunnerError] = [:]
        for outcome in effects.outcomes {
            if case .failure(let error) = outcome.result { errors[outcome.record.id] = error }
        }
        return errors
    }

    /// Checks what every aggregated call must be and returns its Kinesis records (as ``Runner/aggregatedRecords(of:)``
    /// builds them): the entries partition the user records; at most `maxRecordsPerRequest` Kinesis records of at
    /// most `maxRequestBytes` as sent; an aggregate holds only records `map` routes to its predicted shard, is at
    /// most `maxSize` bytes (data plus key), carries its first member's key and hash (inside the shard) and
    /// deaggregates to its members in order; any other entry is the one record as it was given.
    @discardableResult
    static func check(
        _ batch: RunnerStateMachine.Batch,
        map: ShardMap,
        limits: RunnerStateMachine.Limits,
        maxSize: Int,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [PutRecordsEntry] {
        let entries = try #require(batch.entries, "an aggregated call has entries", sourceLocation: sourceLocation)
        #expect(entries.count <= limits.maxRecordsPerRequest, sourceLocation: sourceLocation)
        #expect(batch.bytes <= limits.maxRequestBytes, sourceLocation: sourceLocation)
        var next = 0
        for entry in entries {
            #expect(entry.members.lowerBound == next && !entry.members.isEmpty, sourceLocation: sourceLocation)
            next = entry.members.upperBound
        }
        #expect(next == batch.records.count, sourceLocation: sourceLocation)
        let kinesis = Runner.aggregatedRecords(of: batch)
        #expect(kinesis.count == entries.count, sourceLocation: sourceLocation)
        #expect(kinesis.map(\.billedSize).reduce(0, +) <= limits.maxRequestBytes, sourceLocation: sourceLocation)
        for (entry, record) in zip(entries, kinesis) {
            let members = Array(batch.records[entry.members])
            guard entry.isAggregate else {
                let only = members[0].record
                #expect(record == PutRecordsEntry(data: only.data, partitionKey: only.partitionKey, explicitHashKey: only.explicitHashKey), sourceLocation: sourceLocation)
                continue
            }
            let shard = try #require(entry.shard, sourceLocation: sourceLocation)
            let range = try #require(map.range(of: shard), sourceLocation: sourceLocation)
            #expect(members.allSatisfy { range.contains($0.hash) && map.shard(for: $0.hash) == shard }, sourceLocation: sourceLocation)
            #expect(members.allSatisfy { batch.shardName(of: $0) == shard }, sourceLocation: sourceLocation)
            #expect(record.billedSize <= maxSize, "aggregate of \(record.billedSize) bytes", sourceLocation: sourceLocation)
            #expect(record.partitionKey == members[0].record.partitionKey, sourceLocation: sourceLocation)
            let explicit = try #require(record.explicitHashKey.flatMap { HashKey(decimal: $0) }, sourceLocation: sourceLocation)
            #expect(explicit.value == members[0].hash && range.contains(explicit.value), sourceLocation: sourceLocation)
            #expect(KinesisAggregation.deaggregate(record.data) == members.map(\.userRecord), sourceLocation: sourceLocation)
        }
        return kinesis
    }
}

extension RunnerStateMachine {
    /// Offers `record` routed as the runner routes it (explicit hash key first); returns its id.
    @discardableResult
    mutating func offerRouted(_ record: Record, now: ContinuousClock.Instant = Fixture.t0, sourceLocation: SourceLocation = #_sourceLocation) -> UInt64 {
        let id = makeID()
        let result = offer(record, id: id, hash: Fixture.hash(record), completion: .handler, resume: nil, mayWait: false, now: now)
        #expect(result.isAccepted, sourceLocation: sourceLocation)
        return id
    }
}

extension PendingRecord {
    /// The user record as an aggregate carries it.
    var userRecord: KinesisAggregation.UserRecord {
        .init(partitionKey: record.partitionKey, explicitHashKey: record.explicitHashKey, data: record.data)
    }
}
