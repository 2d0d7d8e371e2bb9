import Backoff
import Foundation
import KinesisAPI
import KinesisLocal
import NIOCore
import NIOHTTP1
import Testing
import TestSupport

/// The per-shard write limits, measured over more than three seconds. The two measurements run in parallel.
@Suite("KinesisLocal per-shard limits")
struct ShardLimitTests {
    struct Measurement {
        var accepted = 0
        var acceptedBytes = 0
        var throttled = 0
        var elapsed: Double = 0
        var throttleMessages: Set<String> = []
        var otherFailures: [String] = []
    }

    /// Pushes `batch` at one shard as fast as one connection allows for `duration`, counting per-record outcomes.
    static func push(_ batch: [PutRecordsEntry], client: KinesisClient, duration: Double) async throws -> Measurement {
        var measurement = Measurement()
        let clock = ContinuousClock()
        let start = clock.now
        while true {
            let result = try await client.putRecords(batch, stream: .name("s"))
            for (entry, outcome) in zip(batch, result.records) {
                if outcome.succeeded {
                    measurement.accepted += 1
                    measurement.acceptedBytes += entry.billedSize
                } else if outcome.errorCode == "ProvisionedThroughputExceededException" {
                    measurement.throttled += 1
                    measurement.throttleMessages.insert(outcome.errorMessage ?? "")
                } else {
                    measurement.otherFailures.append("\(outcome.errorCode ?? "?"): \(outcome.errorMessage ?? "")")
                }
            }
            let elapsed = clock.now - start
            if elapsed >= .seconds(duration) {
                measurement.elapsed = elapsed.inSeconds
                return measurement
            }
        }
    }

    @Test("one shard accepts ~1000 records/s (plus one second of burst)")
    func recordsPerSecond() async throws {
        try await withLocalClient(.init(streams: [.init(name: "s", shardCount: 4)]), retry: noRetry) { server, client in
            let ehk = hashKeyInside(shard: 1, of: 4)
            let batch = (0..<500).map { PutRecordsEntry(data: Array("r\($0)".utf8), partitionKey: "k", explicitHashKey: ehk) }
            let m = try await Self.push(batch, client: client, duration: 3.2)
            let rate = Double(m.accepted) / m.elapsed
            let sustained = Double(m.accepted - 1000) / m.elapsed
            print("KinesisLocal records limit: \(m.accepted) accepted, \(m.throttled) throttled in \(String(format: "%.2f", m.elapsed)) s → \(String(format: "%.0f", rate)) records/s overall, \(String(format: "%.0f", sustained)) records/s after the burst")
            #expect(m.otherFailures.isEmpty, "\(m.otherFailures.prefix(3))")
            // Never above the limit; below it only by what a loaded machine costs (ShardLimitSimulationTests checks
            // the rate exactly, on simulated time).
            #expect(rate >= 800 && rate <= 1100 + 1000 / m.elapsed, "\(rate) records/s")
            #expect(sustained >= 800 && sustained <= 1100, "\(sustained) records/s after the burst")
            #expect(m.throttled > m.accepted, "the client offered more than twice the limit")
            #expect(m.throttleMessages == ["Rate exceeded for shard \(shardID(1)) in stream s under account 123456789012."])
            let stats = try #require(server.stats().streams["s"])
            #expect(stats.accepted == m.accepted)
            #expect(stats.throttled == m.throttled)
            #expect(stats.shards.map(\.accepted) == [0, m.accepted, 0, 0])
            // The other shards' budgets are untouched.
            let other = try await client.putRecords(
                (0..<500).map { _ in PutRecordsEntry(data: [1], partitionKey: "k", explicitHashKey: hashKeyInside(shard: 2, of: 4)) },
                stream: .name("s")
            )
            #expect(other.failedRecordCount == 0)
        }
    }

    @Test("one shard accepts ~1 MiB/s (plus one second of burst)")
    func bytesPerSecond() async throws {
        try await withLocalClient(.init(streams: [.init(name: "s", shardCount: 2)]), retry: noRetry) { server, client in
            let ehk = hashKeyInside(shard: 0, of: 2)
            var generator = SplitMix64(seed: 7)
            let payload = [UInt8].random(count: 100 * 1024 - 8, using: &generator)
            let batch = (0..<5).map { PutRecordsEntry(data: payload, partitionKey: "key-\($0)", explicitHashKey: ehk) }
            let m = try await Self.push(batch, client: client, duration: 3.2)
            let mib = 1_048_576.0
            let rate = Double(m.acceptedBytes) / m.elapsed / mib
            let sustained = Double(m.acceptedBytes - Int(mib)) / m.elapsed / mib
            print("KinesisLocal bytes limit: \(m.accepted) records (\(m.acceptedBytes) bytes) accepted, \(m.throttled) throttled in \(String(format: "%.2f", m.elapsed)) s → \(String(format: "%.3f", rate)) MiB/s overall, \(String(format: "%.3f", sustained)) MiB/s after the burst")
            #expect(m.otherFailures.isEmpty, "\(m.otherFailures.prefix(3))")
            #expect(rate >= 0.8 && rate <= 1.1 + 1 / m.elapsed, "\(rate) MiB/s")
            #expect(sustained >= 0.75 && sustained <= 1.1, "\(sustained) MiB/s after the burst")
            #expect(m.throttled > m.accepted, "the client offered more than the limit")
            #expect(m.throttleMessages == ["Rate exceeded for shard \(shardID(0)) in stream s under account 123456789012."])
            #expect(server.stats().streams["s"]?.acceptedBytes == m.acceptedBytes)
        }
    }

    @Test("with limits off nothing is throttled")
    func limitsOff() async throws {
        try await withLocalClient(.init(streams: [.init(name: "s", shardCount: 1)], shardLimits: .off)) { _, client in
            let batch = (0..<500).map { PutRecordsEntry(data: Array(repeating: 7, count: 1000), partitionKey: "k\($0)") }
            for _ in 0..<6 {
                let result = try await client.putRecords(batch, stream: .name("s"))
                #expect(result.failedRecordCount == 0)
            }
        }
    }
}
