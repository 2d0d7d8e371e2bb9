import Backoff
import Foundation
import KinesisAPI
import KinesisLocal
import NIOCore
import NIOHTTP1
import Testing
import TestSupport

/// Read-back details that moto does not share (so not in the conformance suite).
@Suite("KinesisLocal read-back")
struct ReadBackTests {
    @Test("byte-exact per-shard order over many records, Limit pages and MillisBehindLatest")
    func perShardOrder() async throws {
        try await withLocalClient(.init(streams: [.init(name: "s", shardCount: 3)], shardLimits: .off)) { _, client in
            var generator = SplitMix64(seed: 11)
            var written: [String: [(key: String, data: [UInt8], sequenceNumber: String)]] = [:]
            for round in 0..<4 {
                let batch = (0..<250).map { index in
                    PutRecordsEntry(data: [UInt8].random(count: Int(generator.next() % 300), using: &generator), partitionKey: "k\(round)-\(index % 37)")
                }
                let result = try await client.putRecords(batch, stream: .name("s"))
                #expect(result.failedRecordCount == 0)
                for (entry, outcome) in zip(batch, result.records) {
                    written[outcome.shardID!, default: []].append((entry.partitionKey, entry.data, outcome.sequenceNumber!))
                }
            }
            for shard in (0..<3).map({ shardID($0) }) {
                let records = try await readShard(client, stream: .name("s"), shardID: shard, limit: 97)
                let expected = written[shard] ?? []
                #expect(records.count == expected.count)
                #expect(records.map(\.partitionKey) == expected.map(\.key))
                #expect(records.map(\.data) == expected.map(\.data))
                #expect(records.map(\.sequenceNumber) == expected.map(\.sequenceNumber))
                // Sequence numbers grow within a shard (same length, so string order is numeric order).
                #expect(zip(records, records.dropFirst()).allSatisfy { $0.sequenceNumber < $1.sequenceNumber })
            }
            let iterator = try await client.getShardIterator(stream: .name("s"), shardID: shardID(0), position: .trimHorizon)
            let page = try await client.getRecords(shardIterator: iterator, limit: 1)
            #expect(page.records.count == 1)
            #expect(page.millisBehindLatest != nil)
        }
    }

    @Test("concurrent writers on several event loops: every record stored once, per-shard order matches sequence numbers")
    func concurrentWriters() async throws {
        let configuration = KinesisLocal.Configuration(streams: [.init(name: "s", shardCount: 2)], shardLimits: .off, threads: 2)
        try await withServer(configuration) { server in
            let written = try await withThrowingTaskGroup(of: [(String, String, String)].self) { group in
                for writer in 0..<6 {
                    group.addTask {
                        try await withClient(url: server.endpoint) { client in
                            var mine: [(String, String, String)] = []
                            for round in 0..<10 {
                                let batch = (0..<50).map { PutRecordsEntry(data: Array("w\(writer)-r\(round)-\($0)".utf8), partitionKey: "w\(writer)-\($0)") }
                                let result = try await client.putRecords(batch, stream: .name("s"))
                                for (entry, outcome) in zip(batch, result.records) {
                                    mine.append((String(decoding: entry.data, as: UTF8.self), outcome.shardID ?? "?", outcome.sequenceNumber ?? "?"))
                                }
                            }
                            return mine
                        }
                    }
                }
                var all: [(String, String, String)] = []
                for try await part in group { all += part }
                return all
            }
            #expect(written.count == 3000)
            #expect(Set(written.map(\.2)).count == 3000, "sequence numbers are unique")
            #expect(server.stats().streams["s"]?.accepted == 3000)
            try await withClient(url: server.endpoint) { client in
                for shard in [shardID(0), shardID(1)] {
                    let records = try await readShard(client, stream: .name("s"), shardID: shard)
                    let expected = written.filter { $0.1 == shard }.sorted { $0.2 < $1.2 }
                    #expect(records.map { String(decoding: $0.data, as: UTF8.self) } == expected.map(\.0))
                }
            }
        }
    }

    @Test("AT_TIMESTAMP starts at the first record that arrived at or after the time")
    func atTimestamp() async throws {
        try await withLocalClient(.init(streams: [.init(name: "s", shardCount: 1)])) { _, client in
            _ = try await client.putRecords((0..<3).map { PutRecordsEntry(data: [UInt8($0)], partitionKey: "early-\($0)") }, stream: .name("s"))
            try await Task.sleep(for: .milliseconds(50))
            let cut = Date()
            try await Task.sleep(for: .milliseconds(50))
            _ = try await client.putRecords((0..<2).map { PutRecordsEntry(data: [UInt8($0)], partitionKey: "late-\($0)") }, stream: .name("s"))
            let records = try await readShard(client, stream: .name("s"), shardID: shardID(0), position: .at(timestamp: cut))
            #expect(records.map(\.partitionKey) == ["late-0", "late-1"])
            let future = try await readShard(client, stream: .name("s"), shardID: shardID(0), position: .at(timestamp: Date().addingTimeInterval(60)))
            #expect(future.isEmpty)
        }
    }

    @Test("bad iterator requests: unknown type, foreign or zero sequence numbers, garbage iterators")
    func badIterators() async throws {
        try await withLocalClient(.init(streams: [.init(name: "s", shardCount: 2)]), retry: noRetry) { _, client in
            let put = try await client.putRecord(PutRecordsEntry(data: [1], partitionKey: "a"), stream: .name("s"))
            #expect(put.shardID == shardID(0))

            let wrongType = await kinesisError {
                _ = try await client.getShardIterator(stream: .name("s"), shardID: shardID(0), position: .init(type: "SOMEWHERE"))
            }
            #expect(wrongType?.code == .validation)
            let missingNumber = await kinesisError {
                _ = try await client.getShardIterator(stream: .name("s"), shardID: shardID(0), position: .init(type: "AT_SEQUENCE_NUMBER"))
            }
            #expect(missingNumber?.code == .invalidArgument)
            let notOurs = await kinesisError {
                _ = try await client.getShardIterator(stream: .name("s"), shardID: shardID(0), position: .at(sequenceNumber: "12345"))
            }
            #expect(notOurs?.code == .invalidArgument)

            // A sequence number of shard 0 does not position an iterator on shard 1.
            let foreign = await kinesisError {
                _ = try await client.getShardIterator(stream: .name("s"), shardID: shardID(1), position: .at(sequenceNumber: put.sequenceNumber))
            }
            #expect(foreign?.code == .invalidArgument)

            // Counter zero: no record has it, so AT is refused (not a crash); AFTER is the position before every
            // record of the shard, which SubscribeToShard hands out as the continuation of an empty event.
            let zero = "49" + String(repeating: "0", count: 54)
            let atZero = await kinesisError { _ = try await client.getShardIterator(stream: .name("s"), shardID: shardID(0), position: .at(sequenceNumber: zero)) }
            #expect(atZero?.code == .invalidArgument)
            let afterZero = try await client.getShardIterator(stream: .name("s"), shardID: shardID(0), position: .after(sequenceNumber: zero))
            #expect(try await client.getRecords(shardIterator: afterZero).records.map(\.sequenceNumber) == [put.sequenceNumber])
            // The server is still up.
            let records = try await readShard(client, stream: .name("s"), shardID: shardID(0))
            #expect(records.map(\.sequenceNumber) == [put.sequenceNumber])

            let garbage = await kinesisError { _ = try await client.getRecords(shardIterator: "not-an-iterator") }
            #expect(garbage?.code == .invalidArgument)
            let iterator = try await client.getShardIterator(stream: .name("s"), shardID: shardID(0), position: .trimHorizon)
            for limit in [0, 10_001] {
                let error = await kinesisError { _ = try await client.getRecords(shardIterator: iterator, limit: limit) }
                #expect(error?.code == .validation, "Limit \(limit)")
            }
        }
    }

    @Test("DescribeStream pages with ExclusiveStartShardId past 100 shards")
    func describeStreamPages() async throws {
        try await withLocalClient(.init(streams: [.init(name: "s", shardCount: 150)])) { _, client in
            let description = try await client.describeStream(stream: .name("s"))
            #expect(description.shards.map(\.shardID) == (0..<150).map { shardID($0) })
            #expect(description.shards.map(\.hashKeyRange) == evenSplit(150))
            #expect(description.streamMode == "PROVISIONED")
        }
    }

    @Test("stream names follow [a-zA-Z0-9_.-]+; on-demand streams get 4 shards and report their mode")
    func streamCreation() async throws {
        try await withLocalClient(retry: noRetry) { _, client in
            for bad in ["ü-stream", "has space", "", String(repeating: "x", count: 129)] {
                let error = await kinesisError { try await client.createStream(name: bad, shardCount: 1) }
                #expect(error?.code == .validation, "\(bad)")
            }
            try await client.createStream(name: "od", mode: .onDemand, maxRecordSizeInKiB: 10240)
            let summary = try await client.describeStreamSummary(stream: .name("od"))
            #expect(summary.openShardCount == 4)
            #expect(summary.streamMode == "ON_DEMAND")
            #expect(summary.maxRecordSizeInKiB == 10240)
            let missingCount = await kinesisError { try await client.createStream(name: "p", mode: .provisioned) }
            #expect(missingCount?.code == .invalidArgument)
            let badSize = await kinesisError { try await client.createStream(name: "p", shardCount: 1, maxRecordSizeInKiB: 512) }
            #expect(badSize?.code == .validation)
            // A 10 MiB stream takes a 2 MiB record that a default stream refuses.
            let big = PutRecordsEntry(data: Array(repeating: 5, count: 2 << 20), partitionKey: "big")
            #expect(try await client.putRecords([big], stream: .name("od")).failedRecordCount == 0)
        }
    }
}
