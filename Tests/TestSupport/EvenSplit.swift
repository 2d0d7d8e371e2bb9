import KinesisAPI

/// The even split of the hash ring into `count` shards, as AWS and moto create them:
/// `step = 2^128 / count`, shard i = `[i·step, (i+1)·step − 1]`, the last one ending at `2^128 − 1`.
public func evenSplit(_ count: Int) -> [Shard.HashKeyRange] {
    // One shard owns the whole ring (the step below would be 2^128).
    guard count > 1 else { return [Shard.HashKeyRange(startingHashKey: .min, endingHashKey: .max)] }
    let n = UInt128(count)
    // 2^128 / n without overflowing: (2^128 − 1) / n, plus one when n divides 2^128 exactly.
    let step = UInt128.max / n + (UInt128.max % n == n - 1 ? 1 : 0)
    return (0..<n).map { i in
        let start = i * step
        let end = i == n - 1 ? UInt128.max : (i + 1) * step - 1
        return Shard.HashKeyRange(startingHashKey: HashKey(start), endingHashKey: HashKey(end))
    }
}
