import KinesisAggregation

/// Packs records into the Kinesis records of one PutRecords call when aggregating: records predicted for the same
/// shard share an aggregate until it reaches the size or count limit; a record with no predicted shard, or too
/// large to share, goes alone.
///
/// In ordered mode a partition key's records in one call all go into the same Kinesis record, so a failed entry
/// can never leave a later record of its key stored ahead of it.
struct AggregatingBatch {
    struct Entry {
        var members: [PendingRecord]
        var shard: String?
        var estimator = KinesisAggregation.SizeEstimator()
        /// Data plus partition key of the Kinesis record this entry becomes (the aggregate's, even while it holds
        /// one record; that one is then sent raw, which is smaller).
        var billedSize: Int
        /// The UTF-8 length of the aggregate's partition key (its first record's).
        var keyBytes: Int
    }

    enum Placement {
        /// Into the open aggregate at `entry`, costing `bytes` more.
        case join(entry: Int, bytes: Int, KinesisAggregation.SizeEstimator.Increment)
        /// As a new Kinesis record of `bytes`; with an increment when later records may join it.
        case open(bytes: Int, KinesisAggregation.SizeEstimator.Increment?)
        /// Not in this call (ordered mode: its key's Kinesis record here is closed).
        case skip
        /// The call is full.
        case full
    }

    let maxEntries: Int
    let maxBytes: Int
    let maxSize: Int
    let maxCount: Int
    let ordered: Bool
    private(set) var entries: [Entry] = []
    private(set) var bytes = 0
    private(set) var memberCount = 0
    /// The aggregate still taking records, by the shard's position in the map (-1: none).
    private var open: [Int]
    /// Ordered mode: the entry holding each key's records.
    private var entryOfKey: [Int: Int] = [:]

    init(maxEntries: Int, maxBytes: Int, maxSize: Int, maxCount: Int, ordered: Bool, shardCount: Int) {
        open = Array(repeating: -1, count: shardCount)
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
        self.maxSize = maxSize
        self.maxCount = maxCount
        self.ordered = ordered
    }

    var isEmpty: Bool { entries.isEmpty }

    /// Where `record`, predicted for the map's shard at position `shard`, goes in this call.
    mutating func placement(for record: PendingRecord, shard: Int?) -> Placement {
        if ordered, let index = entryOfKey[record.orderingKey] {
            guard let shard, open[shard] == index else { return .skip }
            return join(record, entry: index) ?? .skip
        }
        if let shard, open[shard] >= 0, let placement = join(record, entry: open[shard]) {
            return placement
        }
        guard entries.count < maxEntries else { return .full }
        let increment = Self.increment(of: record, in: KinesisAggregation.SizeEstimator())
        let alone = KinesisAggregation.overhead + increment.bytes + record.record.partitionKey.utf8.count
        let aggregatable = shard != nil && alone <= maxSize && maxCount > 1
        let size = aggregatable ? alone : record.size
        guard bytes + size <= maxBytes else { return .full }
        return .open(bytes: size, aggregatable ? increment : nil)
    }

    /// Mutating only so the open entry is read in place: through the subscript getter its estimator was copied
    /// (its key tables retained and released) once per record.
    private mutating func join(_ record: PendingRecord, entry index: Int) -> Placement? {
        let (maxCount, maxSize) = (maxCount, maxSize)
        let measured = { (entry: inout Entry) -> (KinesisAggregation.SizeEstimator.Increment, size: Int, added: Int)? in
            guard entry.estimator.count < maxCount else { return nil }
            let increment = entry.estimator.increment(
                partitionKey: record.record.partitionKey,
                explicitHashKey: record.record.explicitHashKey,
                dataCount: record.record.data.count
            )
            let size = entry.estimator.size + increment.bytes + entry.keyBytes
            return size <= maxSize ? (increment, size, size - entry.billedSize) : nil
        }(&entries[index])
        guard case let (increment, _, added)? = measured else { return nil }
        guard bytes + added <= maxBytes else { return .full }
        return .join(entry: index, bytes: added, increment)
    }

    mutating func place(_ record: PendingRecord, shard: Int?, shardID: String?, _ placement: Placement) {
        switch placement {
        case .join(let index, let added, let increment):
            entries[index].members.append(record)
            entries[index].estimator.add(partitionKey: record.record.partitionKey, explicitHashKey: record.record.explicitHashKey, increment)
            entries[index].billedSize += added
            bytes += added
        case .open(let size, let increment):
            var entry = Entry(members: [record], shard: shardID, billedSize: size, keyBytes: record.record.partitionKey.utf8.count)
            // A record too large to share leaves the shard's open aggregate open.
            if let increment, let shard {
                entry.estimator.add(partitionKey: record.record.partitionKey, explicitHashKey: record.record.explicitHashKey, increment)
                open[shard] = entries.count
            }
            entries.append(entry)
            bytes += size
        case .skip, .full:
            return
        }
        if ordered { entryOfKey[record.orderingKey] = placement.entryIndex ?? entries.count - 1 }
        memberCount += 1
    }

    /// The user records, each entry's members together in entry order, and the entries over them.
    func finish() -> (records: [PendingRecord], entries: [RunnerStateMachine.Batch.Entry]) {
        var records: [PendingRecord] = []
        records.reserveCapacity(memberCount)
        var shapes: [RunnerStateMachine.Batch.Entry] = []
        shapes.reserveCapacity(entries.count)
        for entry in entries {
            let start = records.count
            records += entry.members
            shapes.append(.init(members: start..<records.count, shard: entry.shard, layout: entry.members.count > 1 ? entry.estimator : nil))
        }
        return (records, shapes)
    }

    private static func increment(of record: PendingRecord, in estimator: KinesisAggregation.SizeEstimator) -> KinesisAggregation.SizeEstimator.Increment {
        estimator.increment(partitionKey: record.record.partitionKey, explicitHashKey: record.record.explicitHashKey, dataCount: record.record.data.count)
    }
}

extension AggregatingBatch.Placement {
    /// Whether the record asked the rate limiter (joined or opened an entry).
    var takesBudget: Bool {
        switch self {
        case .join, .open: true
        case .skip, .full: false
        }
    }

    fileprivate var entryIndex: Int? {
        if case .join(let index, _, _) = self { return index }
        return nil
    }
}
