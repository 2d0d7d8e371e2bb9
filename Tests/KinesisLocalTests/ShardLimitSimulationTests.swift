import KinesisAPI
import NIOCore
import Testing
import TestSupport

@testable import KinesisLocal

/// The per-shard write limits on simulated time: the backend takes `now` with every request, so the rates are
/// exact whatever the machine's load. `ShardLimitTests` checks the same over real HTTP and wall-clock seconds.
@Suite("KinesisLocal per-shard limits on simulated time")
struct ShardLimitSimulationTests {
    struct Totals {
        var accepted = 0
        var acceptedBytes = 0
        var throttled = 0
        var throttleMessages: Set<String> = []
    }

    /// Puts `entries` into stream "s" every `interval` seconds for `duration` seconds of simulated time.
    static func push(
        _ entries: [PutRecordsEntry],
        every interval: Double,
        for duration: Double,
        from start: Double = 1000,
        into state: inout BackendState
    ) throws -> Totals {
        let body = PutRecordsBody.encode(entries, stream: .name("s"))
        var totals = Totals()
        for step in 0...Int(duration / interval) {
            let answer = try state.putRecords(body, in: .init(region: state.defaultRegion, now: start + Double(step) * interval))
            let result = try PutRecordsResult.decode(answer: answer, recordCount: entries.count)
            for (entry, outcome) in zip(entries, result.records) {
                if outcome.succeeded {
                    totals.accepted += 1
                    totals.acceptedBytes += entry.billedSize
                } else {
                    #expect(outcome.errorCode == "ProvisionedThroughputExceededException")
                    totals.throttled += 1
                    totals.throttleMessages.insert(outcome.errorMessage ?? "")
                }
            }
        }
        return totals
    }

    static func backend(shards: Int, maxRecordSizeKiB: Int? = nil) throws -> BackendState {
        var state = BackendState(configuration: .init(shardLimits: .init()))
        try state.create(.init(name: "s", shardCount: shards, maxRecordSizeInKiB: maxRecordSizeKiB ?? 1024), now: 1000)
        return state
    }

    @Test("records: one second of burst, then exactly 1000 records/s per shard; the other shards keep their budget")
    func records() throws {
        var state = try Self.backend(shards: 4)
        let ehk = hashKeyInside(shard: 1, of: 4)
        let batch = (0..<100).map { PutRecordsEntry(data: Array("r\($0)".utf8), partitionKey: "k", explicitHashKey: ehk) }
        // 10,000 records/s offered for 3 s.
        let totals = try Self.push(batch, every: 0.01, for: 3, into: &state)
        #expect((3999...4000).contains(totals.accepted), "\(totals.accepted)")  // 1000 of burst + 3 s × 1000
        #expect(totals.throttled == 301 * 100 - totals.accepted)
        #expect(totals.throttleMessages == ["Rate exceeded for shard \(shardID(1)) in stream s under account 123456789012."])
        #expect(state.streams[state.defaultAddress("s")]!.shards.map(\.accepted) == [0, totals.accepted, 0, 0])
        // After ten idle seconds the bucket holds one second's worth again, not more.
        let afterIdle = try Self.push(Array(repeating: batch[0], count: 500), every: 0.001, for: 0.002, from: 1013, into: &state)
        #expect((1000...1002).contains(afterIdle.accepted), "\(afterIdle.accepted)")
        let other = (0..<1000).map { _ in PutRecordsEntry(data: [1], partitionKey: "k", explicitHashKey: hashKeyInside(shard: 2, of: 4)) }
        let untouched = try Self.push(Array(other[..<500]), every: 1, for: 0, into: &state)
        #expect(untouched.throttled == 0)
    }

    @Test("bytes: one second of burst, then 1 MiB/s per shard, to within one record")
    func bytes() throws {
        var state = try Self.backend(shards: 2)
        let ehk = hashKeyInside(shard: 0, of: 2)
        let payload = [UInt8](repeating: 0xAB, count: 100 * 1024 - 8)
        let batch = (0..<5).map { PutRecordsEntry(data: payload, partitionKey: "key-\($0)", explicitHashKey: ehk) }
        // ~5 MiB/s offered for 3 s.
        let totals = try Self.push(batch, every: 0.1, for: 3, into: &state)
        let mib = 1_048_576
        #expect(totals.acceptedBytes <= mib + 3 * mib)
        #expect(totals.acceptedBytes > mib + 3 * mib - batch[0].billedSize)
        #expect(totals.throttled > totals.accepted)
        #expect(totals.throttleMessages == ["Rate exceeded for shard \(shardID(0)) in stream s under account 123456789012."])
    }

    @Test("a 2 MiB record (a stream of 10 MiB records) passes when the bucket is full and drives it negative")
    func largeRecord() throws {
        var state = try Self.backend(shards: 1, maxRecordSizeKiB: 10_240)
        let big = [PutRecordsEntry(data: [UInt8](repeating: 1, count: 2 << 20), partitionKey: "big")]
        let first = try Self.push(big, every: 1, for: 0, into: &state)
        #expect(first.accepted == 1)
        // 50 ms later the bucket is still in debt, so even a small record waits.
        let body = PutRecordsBody.encode([PutRecordsEntry(data: [1], partitionKey: "small")], stream: .name("s"))
        let answer = try PutRecordsResult.decode(answer: state.putRecords(body, in: .init(region: state.defaultRegion, now: 1000.05)), recordCount: 1)
        #expect(answer.records.first?.errorCode == "ProvisionedThroughputExceededException")
    }
}
