import Benchmark
import KinesisAPI

/// Which shard a record lands on: MD5 of the partition key as a 128-bit hash (`HashKey(partitionKey:)`, what
/// `Runner.validate` computes for every record), then a lookup among the open shards.
///
/// The Runner's `ShardMap` is internal to KinesisPusher (and being rewritten), so the lookup is replicated here the
/// way ShardMap does it: inclusive ranges sorted by ending hash key, binary search for the first end ≥ hash.
func shardPredictionBenchmarks() {
    let keys = (0..<1000).map(Fixtures.partitionKey)

    Benchmark("MD5 hash of the partition key, per record") { benchmark in
        for index in benchmark.scaledIterations {
            blackHole(HashKey(partitionKey: keys[index % keys.count]).value)
        }
    }
    for shardCount in [4, 1024] {
        let map = PredictedShards(evenSplit: shardCount)
        precondition(keys.allSatisfy { map.shard(for: HashKey(partitionKey: $0).value) != nil })
        Benchmark("MD5 shard prediction, \(shardCount) shards, per record") { benchmark in
            for index in benchmark.scaledIterations {
                blackHole(map.shard(for: HashKey(partitionKey: keys[index % keys.count]).value))
            }
        }
    }
}

/// The open shards of a stream split evenly, as CreateStream splits them; ShardMap's lookup.
struct PredictedShards {
    let ranges: [Shard.HashKeyRange]  // sorted by ending hash key
    let shardIDs: [String]

    init(evenSplit count: Int) {
        let width = UInt128.max / UInt128(count)
        var start: UInt128 = 0
        var ranges: [Shard.HashKeyRange] = []
        for index in 0..<count {
            let end = index == count - 1 ? UInt128.max : start + width
            ranges.append(Shard.HashKeyRange(startingHashKey: HashKey(start), endingHashKey: HashKey(end)))
            if index < count - 1 { start = end + 1 }
        }
        self.ranges = ranges
        shardIDs = (0..<count).map { "shardId-\(String(repeating: "0", count: 12 - String($0).count))\($0)" }
    }

    func shard(for hash: UInt128) -> String? {
        var low = 0
        var high = ranges.count
        while low < high {
            let mid = (low + high) / 2
            if ranges[mid].endingHashKey.value < hash { low = mid + 1 } else { high = mid }
        }
        guard low < ranges.count, ranges[low].startingHashKey.value <= hash else { return nil }
        return shardIDs[low]
    }
}
