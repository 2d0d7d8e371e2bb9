import DequeModule
import KinesisAPI
import NIOCore

/// One stored record. Data stays as the base64 text it arrived in.
struct LocalRecord {
    var counter: UInt64
    var arrival: Double
    var partitionKey: String
    var base64: ByteBuffer
    var dataLength: Int
}

/// One shard: its hash range, its records in order, and its write budget.
struct LocalShard {
    var id: String
    var ordinal: Int
    var parentID: String?
    var adjacentParentID: String?
    var startingHashKey: UInt128
    var endingHashKey: UInt128
    var startingCounter: UInt64
    /// Set when the shard closes (reshard); the last counter it could hold.
    var endingCounter: UInt64?
    var records: Deque<LocalRecord> = []
    var recordsBucket: TokenBucket
    var bytesBucket: TokenBucket
    var accepted = 0
    var acceptedBytes = 0
    var throttled = 0

    var isOpen: Bool { endingCounter == nil }

    func contains(_ hash: UInt128) -> Bool { startingHashKey <= hash && hash <= endingHashKey }
}

/// One stream and its shards.
struct LocalStream {
    var name: String
    var arn: String
    var mode: String
    var status = "ACTIVE"
    var createdAt: Double
    var retentionHours = 24
    var maxRecordSizeKiB: Int
    var shards: [LocalShard] = []
    var nextShardOrdinal = 0
    /// Stream-wide record counter: sequence numbers grow in every shard and never repeat.
    var nextCounter: UInt64 = 1
    /// The shard of each stored record in arrival order, so the retention cap trims the oldest first.
    var arrivalOrder: Deque<Int32> = []
    var storedRecords = 0
    var storedBytes = 0
    var attributes = ResourceAttributes()
    /// `NONE` or `KMS`, and the key of a `KMS` stream.
    var encryptionType = "NONE"
    var keyID: String?
    /// Enhanced monitoring's shard-level metrics, in AWS's order.
    var shardLevelMetrics: [String] = []
    var consumers: [LocalConsumer] = []
    /// When the stream last changed capacity mode: AWS allows two switches in 24 hours.
    var modeSwitches: [Double] = []

    /// Open shards sorted by ending hash key, for routing by lower bound.
    var openShardIndices: [Int] = []

    mutating func rebuildRouting() {
        openShardIndices = shards.indices.filter { shards[$0].isOpen }.sorted { shards[$0].endingHashKey < shards[$1].endingHashKey }
    }

    /// The open shard owning `hash` (inclusive ranges).
    func route(_ hash: UInt128) -> Int? {
        var low = 0
        var high = openShardIndices.count
        while low < high {
            let mid = (low + high) / 2
            if shards[openShardIndices[mid]].endingHashKey < hash { low = mid + 1 } else { high = mid }
        }
        guard low < openShardIndices.count else { return nil }
        let index = openShardIndices[low]
        return shards[index].contains(hash) ? index : nil
    }

    /// The starting hash keys of `count` shards splitting the ring evenly, as AWS does for new streams and
    /// UpdateShardCount's uniform scaling.
    static func evenStarts(count: Int) -> [UInt128] {
        let step = UInt128.max / UInt128(count) &+ (UInt128.max % UInt128(count) == UInt128(count) - 1 ? 1 : 0)
        return (0..<count).map { UInt128($0) * step }
    }

    /// Adds `count` open shards splitting the ring evenly: a new stream's shards.
    mutating func addEvenShards(count: Int, now: Double, shardLimits: ShardLimits) {
        let starts = Self.evenStarts(count: count)
        for (i, start) in starts.enumerated() {
            let end = i == count - 1 ? UInt128.max : starts[i + 1] - 1
            addShard(start...end, parents: [], now: now, shardLimits: shardLimits)
        }
        rebuildRouting()
    }

    /// Opens a shard over `range`, child of `parents` (one for a split, two for a merge). Routing is rebuilt by
    /// the caller, once per operation.
    @discardableResult
    private mutating func addShard(_ range: ClosedRange<UInt128>, parents: [String], now: Double, shardLimits: ShardLimits) -> Int {
        shards.append(
            LocalShard(
                id: Self.shardID(nextShardOrdinal),
                ordinal: nextShardOrdinal,
                parentID: parents.first,
                adjacentParentID: parents.count > 1 ? parents[1] : nil,
                startingHashKey: range.lowerBound,
                endingHashKey: range.upperBound,
                startingCounter: nextCounter,
                recordsBucket: TokenBucket(rate: shardLimits.recordsPerSecond, now: now),
                bytesBucket: TokenBucket(rate: shardLimits.bytesPerSecond, now: now)
            )
        )
        nextShardOrdinal += 1
        return shards.count - 1
    }

    /// Closes shards: no record written from now on can carry a counter inside their sequence ranges.
    private mutating func close(_ indices: [Int]) {
        for index in indices { shards[index].endingCounter = nextCounter }
        nextCounter += 1
    }

    /// SplitShard: the shard closes; one child takes `[start, newStart - 1]`, the other `[newStart, end]`.
    /// Returns the children's indices.
    @discardableResult
    mutating func split(_ index: Int, at newStart: UInt128, now: Double, shardLimits: ShardLimits, rebuildingRouting: Bool = true) -> (low: Int, high: Int) {
        let parent = shards[index]
        close([index])
        let low = addShard(parent.startingHashKey...(newStart - 1), parents: [parent.id], now: now, shardLimits: shardLimits)
        let high = addShard(newStart...parent.endingHashKey, parents: [parent.id], now: now, shardLimits: shardLimits)
        if rebuildingRouting { rebuildRouting() }
        return (low, high)
    }

    /// MergeShards: two adjacent shards close (`low` ends where `high` starts); their child takes both ranges,
    /// with `low` as its parent and `high` as its adjacent parent. Returns the child's index.
    @discardableResult
    mutating func merge(_ low: Int, _ high: Int, now: Double, shardLimits: ShardLimits, rebuildingRouting: Bool = true) -> Int {
        let (first, second) = (shards[low], shards[high])
        close([low, high])
        let child = addShard(
            first.startingHashKey...second.endingHashKey,
            parents: [first.id, second.id],
            now: now,
            shardLimits: shardLimits
        )
        if rebuildingRouting { rebuildRouting() }
        return child
    }

    /// UpdateShardCount's UNIFORM_SCALING as AWS carries it out: a series of splits and merges, so every new shard
    /// has at most two parents and the lineage stays readable. Each open shard is split at every boundary of the
    /// even layout inside it; then the pieces between two boundaries are merged, left to right. Doubling splits
    /// each shard once, halving merges pairs; other counts leave intermediate shards, as AWS does.
    mutating func scaleUniformly(to target: Int, now: Double, shardLimits: ShardLimits) {
        let starts = Self.evenStarts(count: target)
        let boundaries = Set(starts)
        var pieces: [Int] = []
        for index in openShardIndices {
            var current = index
            // The boundaries strictly inside the shard, in order: each split leaves its upper part to split next.
            var next = Self.firstIndex(in: starts, above: shards[current].startingHashKey)
            while next < starts.count, starts[next] <= shards[current].endingHashKey {
                let (low, high) = split(current, at: starts[next], now: now, shardLimits: shardLimits, rebuildingRouting: false)
                pieces.append(low)
                current = high
                next += 1
            }
            pieces.append(current)
        }
        var merged: [Int] = []
        for piece in pieces {
            if let last = merged.last, !boundaries.contains(shards[piece].startingHashKey) {
                merged[merged.count - 1] = merge(last, piece, now: now, shardLimits: shardLimits, rebuildingRouting: false)
            } else {
                merged.append(piece)
            }
        }
        rebuildRouting()
    }

    /// The first index of sorted `keys` holding a key above `key` (binary search).
    static func firstIndex(in keys: [UInt128], above key: UInt128) -> Int {
        var low = 0
        var high = keys.count
        while low < high {
            let mid = (low + high) / 2
            if keys[mid] <= key { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Drops the stream's oldest record (whatever its shard); `false` when none is left.
    mutating func dropOldest() -> Bool {
        guard let oldest = arrivalOrder.popFirst() else { return false }
        if let dropped = shards[Int(oldest)].records.popFirst() {
            storedRecords -= 1
            storedBytes -= dropped.dataLength
        }
        return true
    }

    /// Drops the records older than the retention period, oldest first: `arrivalOrder` is the stream's arrival
    /// order across shards, so this is one comparison when nothing has expired.
    mutating func trimExpired(now: Double) {
        let cutoff = now - Double(retentionHours) * 3600
        while let oldest = arrivalOrder.first, let record = shards[Int(oldest)].records.first, record.arrival < cutoff {
            _ = dropOldest()
        }
    }

    static func shardID(_ ordinal: Int) -> String {
        let digits = String(ordinal)
        return "shardId-" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }

    /// `49` + 6-digit shard ordinal + 48-digit counter: 56 digits like AWS's, increasing within a shard.
    static func sequenceNumber(shardOrdinal: Int, counter: UInt64) -> String {
        let ordinal = String(shardOrdinal)
        let value = String(counter)
        return "49" + String(repeating: "0", count: max(0, 6 - ordinal.count)) + ordinal
            + String(repeating: "0", count: 48 - value.count) + value
    }

    /// Writes the same digits as ``sequenceNumber(shardOrdinal:counter:)`` straight into `buffer`: the answer to
    /// every stored record carries one, so no string is built.
    static func writeSequenceNumber(shardOrdinal: Int, counter: UInt64, into buffer: inout ByteBuffer) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 56) { output in
            output[0] = 0x34  // "4"
            output[1] = 0x39  // "9"
            var ordinal = shardOrdinal
            for position in stride(from: 7, through: 2, by: -1) {
                output[position] = 0x30 + UInt8(ordinal % 10)
                ordinal /= 10
            }
            var value = counter
            for position in stride(from: 55, through: 8, by: -1) {
                output[position] = 0x30 + UInt8(value % 10)
                value /= 10
            }
            return 56
        }
    }

    /// The counter inside a sequence number this server issued, or `nil`.
    static func counter(fromSequenceNumber text: String) -> UInt64? {
        guard text.utf8.count == 56, text.hasPrefix("49") else { return nil }
        return UInt64(text.suffix(48))
    }
}

/// The per-shard write limits in force.
struct ShardLimits: Sendable {
    var recordsPerSecond: Double
    var bytesPerSecond: Double
    var enabled: Bool
}
