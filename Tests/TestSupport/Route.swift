import KinesisAPI

/// The index of the range that takes `key`: the first whose (inclusive) end is ≥ the key, as the KPL routes.
public func route(_ key: HashKey, in ranges: [Shard.HashKeyRange]) -> Int? {
    ranges.firstIndex { $0.endingHashKey >= key }
}
