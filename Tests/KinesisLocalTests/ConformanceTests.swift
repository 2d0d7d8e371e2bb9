import AWSCredentials
import Foundation
import KinesisAPI
import KinesisLocal
import NIOCore
import NIOHTTP1
import Testing
import TestSupport

/// Where a conformance test runs: KinesisLocal always, moto_server when `KINESIS_PUSHER_MOTO_URL` is set.
enum ConformanceTarget: String, Sendable, CustomTestStringConvertible {
    case local
    case moto

    static var all: [ConformanceTarget] { Moto.isAvailable ? [.local, .moto] : [.local] }

    var testDescription: String { rawValue }

    /// Runs `body` with a client for this target; for KinesisLocal a fresh server (no streams) is started and stopped.
    func run<T>(_ body: (KinesisClient) async throws -> T) async throws -> T {
        switch self {
        case .local:
            return try await withServer { server in
                try await withClient(url: server.endpoint) { client in try await body(client) }
            }
        case .moto:
            let url = try #require(Moto.url)
            // moto wants the stream repeated on ListShards follow-up pages (reference §11); AWS and KinesisLocal refuse it.
            return try await withClient(url: url, configure: { $0.repeatsStreamOnListShardsPages = true }) { client in
                try await body(client)
            }
        }
    }
}

/// The same client conformance checks against KinesisLocal and moto_server.
@Suite("client conformance: KinesisLocal and moto")
struct ConformanceTests {
    @Test("stream lifecycle and a byte-exact round trip of every record", arguments: ConformanceTarget.all)
    func lifecycleAndRoundTrip(target: ConformanceTarget) async throws {
        let name = Moto.uniqueName("kl-conf")
        let stream = StreamIdentifier.name(name)
        try await target.run { client in
            try await client.createStream(name: name, shardCount: 4)
            let active = try await client.waitUntilActive(stream: stream, timeout: .seconds(30), pollInterval: .milliseconds(100))
            #expect(active.streamStatus == "ACTIVE")

            let summary = try await client.describeStreamSummary(stream: stream)
            #expect(summary.streamName == name)
            #expect(summary.openShardCount == 4)
            #expect(summary.streamARN == "arn:aws:kinesis:us-east-1:123456789012:stream/\(name)")
            #expect(summary.maxRecordSizeInKiB == 1024)

            let description = try await client.describeStream(stream: stream)
            #expect(description.streamName == name)
            #expect(description.streamStatus == "ACTIVE")
            #expect(description.streamARN == summary.streamARN)

            let shards = try await client.listShards(stream: stream, filter: .atLatest)
            #expect(shards.map(\.shardID) == (0..<4).map { shardID($0) })
            #expect(shards.map(\.hashKeyRange) == evenSplit(4))
            #expect(shards.allSatisfy { $0.isOpen })
            #expect(description.shards == shards)
            // The ARN identifies the stream as well as the name does.
            #expect(try await client.listShards(stream: .arn(summary.streamARN)) == shards)

            let single = PutRecordsEntry(data: Array("hello".utf8), partitionKey: "pk-1")
            let put = try await client.putRecord(single, stream: stream)
            #expect(put.shardID == shardID(3))  // §7: pk-1 → shard 3 of 4
            #expect(!put.sequenceNumber.isEmpty)

            let batch = roundTripBatch()
            let result = try await client.putRecords(batch, stream: stream)
            #expect(result.failedRecordCount == 0)
            #expect(result.records.count == batch.count)
            for (entry, outcome) in zip(batch, result.records) {
                #expect(outcome.succeeded, "\(entry.partitionKey)")
                #expect(outcome.shardID == expectedShard(entry, count: 4).map { shardID($0) }, "\(entry.partitionKey)")
            }

            // Every record back byte-exact with its key, on the shard PutRecords named, in per-shard put order.
            let written = [(single, put.shardID, put.sequenceNumber)]
                + zip(batch, result.records).map { ($0, $1.shardID ?? "?", $1.sequenceNumber ?? "?") }
            var readCount = 0
            for shard in shards {
                let records = try await readShard(client, stream: stream, shardID: shard.shardID)
                readCount += records.count
                let expected = written.filter { $0.1 == shard.shardID }
                #expect(records.map(\.partitionKey) == expected.map(\.0.partitionKey), "\(shard.shardID)")
                #expect(records.map(\.data) == expected.map(\.0.data), "\(shard.shardID)")
                #expect(records.map(\.sequenceNumber) == expected.map(\.2), "\(shard.shardID)")
                #expect(records.allSatisfy { $0.approximateArrivalTimestamp != nil })
            }
            #expect(readCount == written.count)

            try await client.deleteStream(stream: stream)
            let gone = await kinesisError { _ = try await client.describeStreamSummary(stream: stream) }
            #expect(gone?.code == .resourceNotFound)
            #expect(gone?.httpStatus == 400)
            #expect(gone?.retryClass == .fatal)
        }
    }

    @Test("ListShards across pages", arguments: ConformanceTarget.all)
    func listShardsPagination(target: ConformanceTarget) async throws {
        let name = Moto.uniqueName("kl-pages")
        let stream = StreamIdentifier.name(name)
        try await target.run { client in
            try await client.createStream(name: name, shardCount: 5)
            try await client.waitUntilActive(stream: stream, timeout: .seconds(30), pollInterval: .milliseconds(100))
            let shards = try await client.listShards(stream: stream, filter: .atLatest, pageSize: 2)
            #expect(shards.map(\.shardID) == (0..<5).map { shardID($0) })
            #expect(shards.map(\.hashKeyRange) == evenSplit(5))
            #expect(try await client.listShards(stream: stream, pageSize: 2) == shards)
            #expect(try await client.listShards(stream: stream, pageSize: 1) == shards)
            try await client.deleteStream(stream: stream)
        }
    }

    @Test("errors: unknown stream, duplicate stream", arguments: ConformanceTarget.all)
    func errors(target: ConformanceTarget) async throws {
        let name = Moto.uniqueName("kl-errors")
        try await target.run { client in
            let missing = await kinesisError { _ = try await client.listShards(stream: .name(Moto.uniqueName("kl-missing"))) }
            #expect(missing?.code == .resourceNotFound)
            #expect(missing?.requestID != nil)
            let missingPut = await kinesisError {
                _ = try await client.putRecords([PutRecordsEntry(data: [1], partitionKey: "k")], stream: .name(Moto.uniqueName("kl-missing")))
            }
            #expect(missingPut?.code == .resourceNotFound)

            try await client.createStream(name: name, shardCount: 1)
            let duplicate = await kinesisError { try await client.createStream(name: name, shardCount: 1) }
            #expect(duplicate?.code == .resourceInUse)
            try await client.deleteStream(stream: .name(name))
        }
    }

    @Test("shard iterators: TRIM_HORIZON, LATEST, AT_/AFTER_SEQUENCE_NUMBER, Limit and NextShardIterator", arguments: ConformanceTarget.all)
    func iterators(target: ConformanceTarget) async throws {
        let name = Moto.uniqueName("kl-iter")
        let stream = StreamIdentifier.name(name)
        try await target.run { client in
            try await client.createStream(name: name, shardCount: 1)
            try await client.waitUntilActive(stream: stream, timeout: .seconds(30), pollInterval: .milliseconds(100))
            let shard = shardID(0)
            let latestBefore = try await client.getShardIterator(stream: stream, shardID: shard, position: .latest)

            let entries = (0..<10).map { PutRecordsEntry(data: Array("record-\($0)".utf8), partitionKey: "key-\($0 % 3)") }
            let result = try await client.putRecords(entries, stream: stream)
            #expect(result.failedRecordCount == 0)
            let sequenceNumbers = result.records.compactMap(\.sequenceNumber)
            #expect(sequenceNumbers.count == 10)

            // TRIM_HORIZON, three at a time, following NextShardIterator.
            var iterator = try await client.getShardIterator(stream: stream, shardID: shard, position: .trimHorizon)
            var pages: [[String]] = []
            for _ in 0..<4 {
                let page = try await client.getRecords(shardIterator: iterator, limit: 3)
                pages.append(page.records.map { String(decoding: $0.data, as: UTF8.self) })
                iterator = try #require(page.nextShardIterator, "an open shard always has a next iterator")
            }
            #expect(pages == [["record-0", "record-1", "record-2"], ["record-3", "record-4", "record-5"], ["record-6", "record-7", "record-8"], ["record-9"]])
            let empty = try await client.getRecords(shardIterator: iterator, limit: 3)
            #expect(empty.records.isEmpty)
            #expect(empty.nextShardIterator != nil)

            // An iterator taken before the put sees all of them; one taken now sees only what comes next.
            let fromLatestBefore = try await client.getRecords(shardIterator: latestBefore)
            #expect(fromLatestBefore.records.map(\.sequenceNumber) == sequenceNumbers)
            let latestNow = try await client.getShardIterator(stream: stream, shardID: shard, position: .latest)
            let later = try await client.putRecord(PutRecordsEntry(data: Array("later".utf8), partitionKey: "key-0"), stream: stream)
            let fromLatestNow = try await client.getRecords(shardIterator: latestNow)
            #expect(fromLatestNow.records.map(\.sequenceNumber) == [later.sequenceNumber])
            #expect(fromLatestNow.records.first?.data == Array("later".utf8))

            let at = try await readShard(client, stream: stream, shardID: shard, position: .at(sequenceNumber: sequenceNumbers[4]))
            #expect(at.map(\.sequenceNumber) == Array(sequenceNumbers[4...]) + [later.sequenceNumber])
            let after = try await readShard(client, stream: stream, shardID: shard, position: .after(sequenceNumber: sequenceNumbers[4]))
            #expect(after.map(\.sequenceNumber) == Array(sequenceNumbers[5...]) + [later.sequenceNumber])
            #expect(after.map(\.partitionKey) == Array(entries[5...].map(\.partitionKey)) + ["key-0"])
            try await client.deleteStream(stream: stream)
        }
    }
}
