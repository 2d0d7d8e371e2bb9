import Foundation
import KinesisAPI
import TestSupport
import Testing

/// Records for a round trip through a real(ish) Kinesis: odd keys, an empty payload, binary data, explicit hash keys.
/// No explicit hash key sits on a shard's ending key (moto treats ranges as end-exclusive).
func roundTripBatch() -> [PutRecordsEntry] {
    var generator = SplitMix64(seed: 2026)
    return [
        PutRecordsEntry(data: Array("first".utf8), partitionKey: "a"),
        PutRecordsEntry(data: [], partitionKey: "empty-payload"),
        PutRecordsEntry(data: (0...255).map { UInt8($0) }, partitionKey: "all-bytes"),
        PutRecordsEntry(data: [0x00, 0x00, 0xFF, 0x0A, 0x0D], partitionKey: "partitionKey"),
        PutRecordsEntry(data: Array("ünïcödé ✓".utf8), partitionKey: "ü-ключ-🙂"),
        PutRecordsEntry(data: [1, 2, 3], partitionKey: "routed-by-ehk-0", explicitHashKey: "0"),
        PutRecordsEntry(data: [4, 5, 6], partitionKey: "routed-by-ehk-2", explicitHashKey: "170141183460469231731687303715884105729"),
        PutRecordsEntry(data: Array(#"{"json":"with \"quotes\" and \\"}"#.utf8), partitionKey: #"key "with" \ quotes"#),
        PutRecordsEntry(data: [UInt8].random(count: 100_000, using: &generator), partitionKey: "large"),
        PutRecordsEntry(data: [UInt8].random(count: 17, using: &generator), partitionKey: "tab\tkey"),
    ]
}

/// Reads every shard from TRIM_HORIZON until it has no more records: (shard id, record) in shard order.
func readAll(_ client: KinesisClient, stream: StreamIdentifier, shards: [Shard]) async throws -> [(shardID: String, record: GetRecordsResult.Record)] {
    var all: [(shardID: String, record: GetRecordsResult.Record)] = []
    for shard in shards {
        var iterator: String? = try await client.getShardIterator(stream: stream, shardID: shard.shardID, position: .trimHorizon)
        var reads = 0
        while let current = iterator, reads < 20 {
            reads += 1
            let result = try await client.getRecords(shardIterator: current, limit: 1000)
            all += result.records.map { (shard.shardID, $0) }
            if result.records.isEmpty { break }
            iterator = result.nextShardIterator
        }
    }
    return all
}

@Suite("moto integration", .enabled(if: Moto.isAvailable))
struct MotoIntegrationTests {
    @Test("stream lifecycle and a byte-exact round trip of every record")
    func lifecycleAndRoundTrip() async throws {
        let url = try #require(Moto.url)
        let name = Moto.uniqueName("kp-api")
        let stream = StreamIdentifier.name(name)
        try await withKinesisClient(url: url) { client in
            try await client.createStream(name: name, shardCount: 4)
            let active = try await client.waitUntilActive(stream: stream, timeout: .seconds(30), pollInterval: .milliseconds(100))
            #expect(active.streamStatus == "ACTIVE")

            let summary = try await client.describeStreamSummary(stream: stream)
            #expect(summary.streamName == name)
            #expect(summary.streamStatus == "ACTIVE")
            #expect(summary.openShardCount == 4)
            #expect(summary.streamARN.hasPrefix("arn:aws:kinesis:us-east-1:"))
            #expect(summary.streamARN.hasSuffix(":stream/\(name)"))
            #expect(summary.maxRecordSizeInKiB == 1024)  // moto omits it

            let description = try await client.describeStream(stream: stream)
            #expect(description.streamName == name)
            #expect(description.streamStatus == "ACTIVE")
            #expect(description.streamARN == summary.streamARN)
            #expect(description.shards.count == 4)

            let shards = try await client.listShards(stream: stream, filter: .atLatest)
            #expect(shards.count == 4)
            #expect(shards.map(\.shardID) == (0..<4).map { FakeKinesis.shardID($0) })
            #expect(shards.map(\.hashKeyRange) == evenSplit(4))
            #expect(shards.allSatisfy { $0.isOpen })
            #expect(description.shards == shards)

            // One record by PutRecord, ten by PutRecords.
            let single = PutRecordsEntry(data: Array("hello".utf8), partitionKey: "pk-1")
            let put = try await client.putRecord(single, stream: stream)
            #expect(put.shardID == FakeKinesis.shardID(3))  // reference §7: pk-1 → shard 3 of 4
            #expect(!put.sequenceNumber.isEmpty)

            let batch = roundTripBatch()
            #expect(batch.count == 10)
            let result = try await client.putRecords(batch, stream: stream)
            #expect(result.failedRecordCount == 0)
            #expect(result.records.count == batch.count)
            for (entry, outcome) in zip(batch, result.records) {
                #expect(outcome.succeeded, "\(entry.partitionKey)")
                #expect(outcome.shardID == expectedShard(entry, count: 4).map { FakeKinesis.shardID($0) }, "\(entry.partitionKey)")
            }

            // Read everything back: every record byte-exact, with its key, on the shard PutRecords named.
            let written = [(single, put.shardID, put.sequenceNumber)]
                + zip(batch, result.records).map { ($0, $1.shardID ?? "?", $1.sequenceNumber ?? "?") }
            let read = try await readAll(client, stream: stream, shards: shards)
            #expect(read.count == written.count)
            for (entry, shardID, sequenceNumber) in written {
                let matches = read.filter { $0.record.partitionKey == entry.partitionKey }
                #expect(matches.count == 1, "\(entry.partitionKey)")
                guard let match = matches.first else { continue }
                #expect(match.record.data == entry.data, "\(entry.partitionKey)")
                #expect(match.shardID == shardID, "\(entry.partitionKey)")
                #expect(match.record.sequenceNumber == sequenceNumber, "\(entry.partitionKey)")
                #expect(match.record.approximateArrivalTimestamp != nil)
            }

            try await client.deleteStream(stream: stream)
            let gone = await kinesisError { _ = try await client.describeStreamSummary(stream: stream) }
            #expect(gone?.code == .resourceNotFound)
            #expect(gone?.httpStatus == 400)
            #expect(gone?.retryClass == .fatal)
        }
    }

    @Test("ListShards pagination across pages (stream repeated on follow-ups, as moto requires)")
    func listShardsPagination() async throws {
        let url = try #require(Moto.url)
        let name = Moto.uniqueName("kp-pages")
        let stream = StreamIdentifier.name(name)
        try await withKinesisClient(url: url, configure: { $0.repeatsStreamOnListShardsPages = true }) { client in
            try await client.createStream(name: name, shardCount: 5)
            try await client.waitUntilActive(stream: stream, timeout: .seconds(30), pollInterval: .milliseconds(100))
            let shards = try await client.listShards(stream: stream, filter: .atLatest, pageSize: 2)
            #expect(shards.map(\.shardID) == (0..<5).map { FakeKinesis.shardID($0) })
            #expect(shards.map(\.hashKeyRange) == evenSplit(5))
            let unfiltered = try await client.listShards(stream: stream, pageSize: 2)
            #expect(unfiltered == shards)
            try await client.deleteStream(stream: stream)
        }
    }

    @Test("errors from moto: unknown stream, duplicate stream")
    func errors() async throws {
        let url = try #require(Moto.url)
        let name = Moto.uniqueName("kp-errors")
        try await withKinesisClient(url: url) { client in
            let missing = await kinesisError { _ = try await client.listShards(stream: .name(Moto.uniqueName("kp-missing"))) }
            #expect(missing?.code == .resourceNotFound)
            #expect(missing?.requestID != nil)

            try await client.createStream(name: name, shardCount: 1)
            let duplicate = await kinesisError { try await client.createStream(name: name, shardCount: 1) }
            #expect(duplicate?.code == .resourceInUse)
            try await client.deleteStream(stream: .name(name))
        }
    }
}
