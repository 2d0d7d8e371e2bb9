import Foundation
import KinesisAPI
import KinesisLocal
import NIOCore
import NIOHTTP1
import Testing
import TestSupport

@Suite("KinesisLocal routing and resharding")
struct RoutingTests {
    /// Reference §7: MD5 routing over inclusive, evenly split ranges.
    @Test("the §7 test vectors route to the reference's shards", arguments: [
        (2, ["a": 0, "pk-1": 1, "partitionKey": 1, "ü-ключ-🙂": 1]),
        (4, ["a": 0, "pk-1": 3, "partitionKey": 2, "ü-ключ-🙂": 2]),
    ])
    func vectors(shardCount: Int, expected: [String: Int]) async throws {
        try await withLocalClient(.init(streams: [.init(name: "s", shardCount: shardCount)])) { _, client in
            let shards = try await client.listShards(stream: .name("s"))
            #expect(shards.map(\.hashKeyRange) == evenSplit(shardCount))
            let keys = expected.keys.sorted()
            let result = try await client.putRecords(keys.map { PutRecordsEntry(data: Array($0.utf8), partitionKey: $0) }, stream: .name("s"))
            for (key, outcome) in zip(keys, result.records) {
                #expect(outcome.shardID == shardID(expected[key]!), "\(key)")
            }
            for key in keys {
                let single = try await client.putRecord(PutRecordsEntry(data: [1], partitionKey: key), stream: .name("s"))
                #expect(single.shardID == shardID(expected[key]!), "PutRecord \(key)")
            }
            // Explicit hash keys on every boundary: both ends of every range are inclusive.
            let maxKey = "340282366920938463463374607431768211455"
            var boundaries: [(String, Int)] = [(maxKey, shardCount - 1), ("0", 0)]
            for (index, range) in evenSplit(shardCount).enumerated() {
                boundaries.append((range.startingHashKey.description, index))
                boundaries.append((range.endingHashKey.description, index))
            }
            let boundaryResult = try await client.putRecords(
                boundaries.map { PutRecordsEntry(data: [2], partitionKey: "ignored", explicitHashKey: $0.0) },
                stream: .name("s")
            )
            for ((key, index), outcome) in zip(boundaries, boundaryResult.records) {
                #expect(outcome.shardID == shardID(index), "EHK \(key)")
            }
        }
    }

    @Test("after UpdateShardCount new records land only on open children; AT_LATEST lists only those")
    func updateShardCount() async throws {
        try await withLocalClient(.init(streams: [.init(name: "s", shardCount: 2)])) { server, client in
            let keys = (0..<200).map { "key-\($0)" }
            _ = try await client.putRecords(keys.map { PutRecordsEntry(data: [0], partitionKey: $0) }, stream: .name("s"))

            // UpdateShardCount over the wire (the client has no method for it).
            let answer = try await rawKinesis(
                server.endpoint,
                operation: "UpdateShardCount",
                json: #"{"StreamName":"s","TargetShardCount":4,"ScalingType":"UNIFORM_SCALING"}"#
            )
            #expect(answer.status == 200, "\(answer.body)")
            #expect(answer.object?["CurrentShardCount"] as? Int == 2)
            #expect(answer.object?["TargetShardCount"] as? Int == 4)

            let open = try await client.listShards(stream: .name("s"), filter: .atLatest)
            #expect(open.map(\.shardID) == (2..<6).map { shardID($0) })
            #expect(open.map(\.hashKeyRange) == evenSplit(4))
            #expect(open.allSatisfy { $0.isOpen })
            #expect(open.map(\.parentShardID) == [shardID(0), shardID(0), shardID(1), shardID(1)])

            let all = try await client.listShards(stream: .name("s"))
            #expect(all.count == 6)
            #expect(all.filter { !$0.isOpen }.map(\.shardID) == [shardID(0), shardID(1)])
            #expect(try await client.describeStreamSummary(stream: .name("s")).openShardCount == 4)

            let result = try await client.putRecords(keys.map { PutRecordsEntry(data: [1], partitionKey: $0) }, stream: .name("s"))
            #expect(result.failedRecordCount == 0)
            let openIDs = Set(open.map(\.shardID))
            for (key, outcome) in zip(keys, result.records) {
                #expect(outcome.shardID.map(openIDs.contains) == true, "\(key) → \(outcome.shardID ?? "nil")")
                let index = route(HashKey(partitionKey: key), in: evenSplit(4))!
                #expect(outcome.shardID == shardID(2 + index), "\(key)")
            }
            let stats = server.stats().streams["s"]
            #expect(stats?.openShards == 4)
            #expect(stats?.shards.filter(\.open).map(\.accepted).reduce(0, +) == 200)
            #expect(stats?.shards.filter { !$0.open }.map(\.accepted).reduce(0, +) == 200)
        }
    }

    @Test("reshard() and merging down: children with two parents, routing stays inclusive")
    func reshardDown() async throws {
        try await withLocalClient(.init(streams: [.init(name: "s", shardCount: 4)])) { server, client in
            try server.reshard(stream: "s", shardCount: 2)
            let open = try await client.listShards(stream: .name("s"), filter: .atLatest)
            #expect(open.map(\.shardID) == [shardID(4), shardID(5)])
            #expect(open.map(\.hashKeyRange) == evenSplit(2))
            #expect(open.map(\.parentShardID) == [shardID(0), shardID(2)])
            #expect(open.map(\.adjacentParentShardID) == [shardID(1), shardID(3)])
            let edge = try await client.putRecord(
                PutRecordsEntry(data: [1], partitionKey: "x", explicitHashKey: "340282366920938463463374607431768211455"),
                stream: .name("s")
            )
            #expect(edge.shardID == shardID(5))
            let vectors = try await client.putRecords(
                ["a", "pk-1", "partitionKey", "ü-ключ-🙂"].map { PutRecordsEntry(data: [1], partitionKey: $0) },
                stream: .name("s")
            )
            #expect(vectors.records.map(\.shardID) == [shardID(4), shardID(5), shardID(5), shardID(5)])
            #expect(throws: (any Error).self) { try server.reshard(stream: "nope", shardCount: 2) }
        }
    }

    @Test("a closed, drained parent gives no NextShardIterator and lists its ChildShards")
    func closedShardReadsToTheEnd() async throws {
        try await withLocalClient(.init(streams: [.init(name: "s", shardCount: 1)])) { server, client in
            let before = try await client.putRecords(
                (0..<5).map { PutRecordsEntry(data: Array("old-\($0)".utf8), partitionKey: "k\($0)") },
                stream: .name("s")
            )
            try server.reshard(stream: "s", shardCount: 2)
            _ = try await client.putRecords((0..<5).map { PutRecordsEntry(data: Array("new-\($0)".utf8), partitionKey: "k\($0)") }, stream: .name("s"))

            let parent = try #require(try await client.listShards(stream: .name("s")).first { $0.shardID == shardID(0) })
            #expect(!parent.isOpen)
            #expect(parent.sequenceNumberRange.endingSequenceNumber != nil)

            // Through the client: the parent holds exactly the old records, then ends.
            var iterator: String? = try await client.getShardIterator(stream: .name("s"), shardID: shardID(0), position: .trimHorizon)
            var read: [GetRecordsResult.Record] = []
            var calls = 0
            while let current = iterator, calls < 10 {
                calls += 1
                let page = try await client.getRecords(shardIterator: current, limit: 2)
                read += page.records
                iterator = page.nextShardIterator
            }
            #expect(iterator == nil, "a drained closed shard has no next iterator")
            #expect(calls == 3)
            #expect(read.map(\.sequenceNumber) == before.records.compactMap(\.sequenceNumber))
            #expect(read.map { String(decoding: $0.data, as: UTF8.self) } == (0..<5).map { "old-\($0)" })

            // On the wire: the last page names the children.
            let iteratorAtEnd = try await client.getShardIterator(
                stream: .name("s"),
                shardID: shardID(0),
                position: .after(sequenceNumber: before.records[4].sequenceNumber!)
            )
            let raw = try await rawKinesis(server.endpoint, operation: "GetRecords", json: #"{"ShardIterator":"\#(iteratorAtEnd)"}"#)
            #expect(raw.status == 200)
            #expect((raw.object?["Records"] as? [Any])?.isEmpty == true)
            #expect(raw.object?["NextShardIterator"] == nil || raw.object?["NextShardIterator"] is NSNull)
            let children = try #require(raw.object?["ChildShards"] as? [[String: Any]], "\(raw.body)")
            #expect(children.map { $0["ShardId"] as? String } == [shardID(1), shardID(2)])
            #expect(children.allSatisfy { ($0["ParentShards"] as? [String]) == [shardID(0)] })
            let ranges = children.compactMap { $0["HashKeyRange"] as? [String: String] }
            #expect(ranges.map { $0["StartingHashKey"] } == evenSplit(2).map { $0.startingHashKey.description })
            #expect(ranges.map { $0["EndingHashKey"] } == evenSplit(2).map { $0.endingHashKey.description })

            // The children hold the new records.
            let childRecords = try await readShard(client, stream: .name("s"), shardID: shardID(1))
                + readShard(client, stream: .name("s"), shardID: shardID(2))
            #expect(Set(childRecords.map { String(decoding: $0.data, as: UTF8.self) }) == Set((0..<5).map { "new-\($0)" }))
        }
    }
}
