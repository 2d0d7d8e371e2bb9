import KinesisAPI

/// The open shards of the stream, for predicting where a record lands (inclusive hash ranges, lower bound on the
/// ending hash key, as the KPL does).
struct ShardMap: Sendable {
    struct Entry: Sendable, Hashable {
        var shardID: String
        var start: UInt128
        var end: UInt128
    }

    /// Open shards sorted by ending hash key.
    private(set) var entries: [Entry]

    init(openShards: [Shard]) {
        entries = openShards.filter(\.isOpen)
            .map { Entry(shardID: $0.shardID, start: $0.hashKeyRange.startingHashKey.value, end: $0.hashKeyRange.endingHashKey.value) }
            .sorted { $0.end < $1.end }
    }

    var count: Int { entries.count }

    /// The shard id owning `hash`, or `nil` when the map has a gap there (a reshard in progress).
    func shard(for hash: UInt128) -> String? {
        index(for: hash).map { entries[$0].shardID }
    }

    /// The position in ``entries`` of the shard owning `hash`: for per-shard state kept in arrays, without
    /// hashing shard ids.
    func index(for hash: UInt128) -> Int? {
        var low = 0
        var high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].end < hash { low = mid + 1 } else { high = mid }
        }
        guard low < entries.count, entries[low].start <= hash else { return nil }
        return low
    }

    /// The hash range of `shardID`, if it is a shard of this map.
    func range(of shardID: String) -> ClosedRange<UInt128>? {
        entries.first { $0.shardID == shardID }.map { $0.start...$0.end }
    }

    /// Whether `shardID` is a shard of this map and owns `hash`.
    func owns(_ shardID: String, _ hash: UInt128) -> Bool {
        entries.contains { $0.shardID == shardID && $0.start <= hash && hash <= $0.end }
    }
}
