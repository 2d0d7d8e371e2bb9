import Foundation
import KinesisAPI
import KinesisLocal
import Testing
import TestSupport

/// SplitShard, MergeShards and UpdateShardCount's lineage: which shards close, which open, who their parents are.
@Suite("KinesisLocal resharding: split, merge, uniform scaling")
struct ReshardingTests {
    static let maxKey = UInt128.max

    /// Every shard of `stream` as DescribeStream lists it.
    static func shards(_ server: KinesisLocal, _ stream: String = "s") async throws -> [[String: Any]] {
        let answer = try await call(server, "ListShards", ["StreamName": stream])
        #expect(answer.status == 200, "\(answer.body)")
        return answer.object?["Shards"] as? [[String: Any]] ?? []
    }

    static func range(_ shard: [String: Any]) -> ClosedRange<UInt128>? {
        guard let range = shard["HashKeyRange"] as? [String: String],
            let start = range["StartingHashKey"].flatMap({ UInt128($0) }),
            let end = range["EndingHashKey"].flatMap({ UInt128($0) })
        else { return nil }
        return start...end
    }

    static func isOpen(_ shard: [String: Any]) -> Bool {
        (shard["SequenceNumberRange"] as? [String: String])?["EndingSequenceNumber"] == nil
    }

    @Test("SplitShard closes the shard and opens two children that split its range at NewStartingHashKey")
    func split() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 1)])) { server in
            let answer = try await call(server, "SplitShard", [
                "StreamName": "s", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "1000",
            ])
            #expect(answer.status == 200, "\(answer.body)")
            let shards = try await Self.shards(server)
            #expect(shards.map { $0["ShardId"] as? String } == ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"])
            #expect(!Self.isOpen(shards[0]))
            #expect(shards[1]["ParentShardId"] as? String == "shardId-000000000000")
            #expect(shards[2]["ParentShardId"] as? String == "shardId-000000000000")
            #expect(shards[1]["AdjacentParentShardId"] == nil)
            #expect(Self.range(shards[1]) == 0...999)
            #expect(Self.range(shards[2]) == 1000...Self.maxKey)
            // A record hashed at 999 goes to the lower child, 1000 to the upper.
            let put = try await call(server, "PutRecords", [
                "StreamName": "s",
                "Records": [["Data": "AA==", "PartitionKey": "k", "ExplicitHashKey": "999"], ["Data": "AA==", "PartitionKey": "k", "ExplicitHashKey": "1000"]],
            ])
            let records = try #require(put.object?["Records"] as? [[String: Any]])
            #expect(records.map { $0["ShardId"] as? String } == ["shardId-000000000001", "shardId-000000000002"])
        }
    }

    @Test("SplitShard refusals: a key outside (start + 1, end), a closed shard, an unknown shard, an on-demand stream")
    func splitRefusals() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 1), .init(name: "od", onDemand: true)])) { server in
            for key in ["0", "1", "340282366920938463463374607431768211455"] {
                let answer = try await call(server, "SplitShard", ["StreamName": "s", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": key])
                #expect(answer.errorType == "InvalidArgumentException", "\(key): \(answer.body)")
                #expect(
                    answer.message
                        == "NewStartingHashKey \(key) used in SplitShard() on shard shardId-000000000000 in stream s under account 123456789012 is not both greater than one plus the shard's StartingHashKey 0 and less than the shard's EndingHashKey 340282366920938463463374607431768211455."
                )
            }
            let notNumber = try await call(server, "SplitShard", ["StreamName": "s", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "12a"])
            #expect(notNumber.errorType == "ValidationException", "\(notNumber.body)")
            let missing = try await call(server, "SplitShard", ["StreamName": "s", "ShardToSplit": "shardId-000000000000"])
            #expect(missing.errorType == "ValidationException")
            #expect(missing.message?.contains("'newStartingHashKey'") == true, "\(missing.body)")

            #expect(try await call(server, "SplitShard", ["StreamName": "s", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "2"]).status == 200)
            let closed = try await call(server, "SplitShard", ["StreamName": "s", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "5"])
            #expect(closed.errorType == "ResourceInUseException")
            #expect(closed.message == "Shard shardId-000000000000 in stream s under account 123456789012 has already been merged or split, and thus is not eligible for merging or splitting.")
            let unknown = try await call(server, "SplitShard", ["StreamName": "s", "ShardToSplit": "shardId-000000000099", "NewStartingHashKey": "5"])
            #expect(unknown.errorType == "ResourceNotFoundException")
            #expect(unknown.message == "Could not find shard shardId-000000000099 in stream s under account 123456789012.")
            let onDemand = try await call(server, "SplitShard", ["StreamName": "od", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "5"])
            #expect(onDemand.errorType == "ValidationException", "\(onDemand.body)")
            #expect(try await Self.shards(server).count == 3, "a refused split changed the stream")
        }
    }

    @Test("MergeShards joins two adjacent shards (either order) into one child naming both; others are refused")
    func merge() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 4)])) { server in
            let notAdjacent = try await call(server, "MergeShards", [
                "StreamName": "s", "ShardToMerge": "shardId-000000000000", "AdjacentShardToMerge": "shardId-000000000002",
            ])
            #expect(notAdjacent.errorType == "InvalidArgumentException")
            #expect(
                notAdjacent.message
                    == "Shards shardId-000000000000 and shardId-000000000002 in stream s under account 123456789012 are not an adjacent pair of shards eligible for merging"
            )
            let itself = try await call(server, "MergeShards", [
                "StreamName": "s", "ShardToMerge": "shardId-000000000001", "AdjacentShardToMerge": "shardId-000000000001",
            ])
            #expect(itself.errorType == "InvalidArgumentException")

            // Named high first: the child's parent is still the lower shard.
            let answer = try await call(server, "MergeShards", [
                "StreamName": "s", "ShardToMerge": "shardId-000000000003", "AdjacentShardToMerge": "shardId-000000000002",
            ])
            #expect(answer.status == 200, "\(answer.body)")
            let shards = try await Self.shards(server)
            let child = try #require(shards.last)
            #expect(child["ShardId"] as? String == "shardId-000000000004")
            #expect(child["ParentShardId"] as? String == "shardId-000000000002")
            #expect(child["AdjacentParentShardId"] as? String == "shardId-000000000003")
            #expect(Self.range(child) == Self.range(shards[2])!.lowerBound...Self.maxKey)
            #expect(shards.filter(Self.isOpen).count == 3)
            let again = try await call(server, "MergeShards", [
                "StreamName": "s", "ShardToMerge": "shardId-000000000002", "AdjacentShardToMerge": "shardId-000000000001",
            ])
            #expect(again.errorType == "ResourceInUseException", "\(again.body)")
        }
    }

    /// The lineage is sound: each shard has at most two parents, which are closed, adjacent and cover exactly its
    /// range (merge) or include it (split); the open shards tile the ring evenly.
    static func checkLineage(_ shards: [[String: Any]], openCount: Int) throws {
        var byID: [String: [String: Any]] = [:]
        for shard in shards { byID[shard["ShardId"] as! String] = shard }
        for shard in shards {
            let range = try #require(Self.range(shard))
            guard let parentID = shard["ParentShardId"] as? String else { continue }
            let parent = try #require(byID[parentID])
            #expect(!Self.isOpen(parent), "\(parentID) is a parent but open")
            if let adjacentID = shard["AdjacentParentShardId"] as? String {
                let adjacent = try #require(byID[adjacentID])
                #expect(!Self.isOpen(adjacent))
                let (low, high) = (try #require(Self.range(parent)), try #require(Self.range(adjacent)))
                #expect(low.upperBound + 1 == high.lowerBound, "merge parents of \(shard["ShardId"]!) are not adjacent")
                #expect(low.lowerBound...high.upperBound == range)
            } else {
                let parentRange = try #require(Self.range(parent))
                #expect(parentRange.lowerBound <= range.lowerBound && range.upperBound <= parentRange.upperBound)
                #expect(parentRange != range, "a split child has its parent's whole range")
            }
        }
        let open = shards.filter(Self.isOpen).compactMap(Self.range).sorted { $0.lowerBound < $1.lowerBound }
        #expect(open == evenSplit(openCount).map { $0.startingHashKey.value...$0.endingHashKey.value })
    }

    @Test("UpdateShardCount lineage: doubling splits each shard, halving merges pairs, other counts split then merge", arguments: [
        (4, 8, 12), (4, 2, 6), (4, 3, 11), (3, 5, 13), (5, 3, 13),
    ])
    func uniformScalingLineage(from: Int, to: Int, totalShards: Int) async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: from)])) { server in
            let answer = try await call(server, "UpdateShardCount", ["StreamName": "s", "TargetShardCount": to, "ScalingType": "UNIFORM_SCALING"])
            #expect(answer.status == 200, "\(answer.body)")
            let shards = try await Self.shards(server)
            try Self.checkLineage(shards, openCount: to)
            #expect(shards.count == totalShards, "\(from) → \(to): \(shards.count) shards in all")
            if to == from * 2 {
                #expect(shards.dropFirst(from).allSatisfy { $0["AdjacentParentShardId"] == nil })
            }
            if to * 2 == from {
                #expect(shards.dropFirst(from).allSatisfy { $0["AdjacentParentShardId"] != nil })
            }
        }
    }

    @Test("a split under load: every acknowledged record is stored once, in a shard whose range holds its hash")
    func splitUnderLoad() async throws {
        try await withLocalClient(.init(streams: [.init(name: "s", shardCount: 2)], shardLimits: .off)) { server, client in
            let writer = Task {
                var acknowledged: [String] = []
                for batch in 0..<60 {
                    let keys = (0..<100).map { "b\(batch)-\($0)" }
                    let result = try await client.putRecords(keys.map { PutRecordsEntry(data: Array($0.utf8), partitionKey: $0) }, stream: .name("s"))
                    for (key, outcome) in zip(keys, result.records) where outcome.errorCode == nil { acknowledged.append(key) }
                }
                return acknowledged
            }
            try await Task.sleep(for: .milliseconds(20))
            let split = try await call(server, "SplitShard", [
                "StreamName": "s", "ShardToSplit": "shardId-000000000001", "NewStartingHashKey": String(UInt128.max / 4 * 3),
            ])
            #expect(split.status == 200, "\(split.body)")
            let acknowledged = try await writer.value
            #expect(acknowledged.count == 6000)
            let stored = try server.storedRecords(stream: "s")
            #expect(stored.count == acknowledged.count)
            #expect(Set(stored.map { String(decoding: $0.data, as: UTF8.self) }) == Set(acknowledged))
            let ranges = Dictionary(uniqueKeysWithValues: try await Self.shards(server).map { ($0["ShardId"] as! String, Self.range($0)!) })
            for record in stored {
                let hash = HashKey(partitionKey: record.partitionKey).value
                #expect(ranges[record.shardID]!.contains(hash), "\(record.partitionKey) stored in \(record.shardID)")
            }
            // Writes after the split reach the children only.
            #expect(stored.contains { $0.shardID == "shardId-000000000003" })
        }
    }
}
