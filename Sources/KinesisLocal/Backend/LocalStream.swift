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

    /// Adds `count` open shards splitting `[start, end]` evenly, as AWS does for new streams and UpdateShardCount.
    mutating func addEvenShards(count: Int, now: Double, shardLimits: ShardLimits, parents: [LocalShard] = []) {
        let step = UInt128.max / UInt128(count) &+ (UInt128.max % UInt128(count) == UInt128(count) - 1 ? 1 : 0)
        for i in 0..<count {
            let start = UInt128(i) * step
            let end = i == count - 1 ? UInt128.max : UInt128(i + 1) * step - 1
            let covering = parents.filter { $0.startingHashKey <= end && start <= $0.endingHashKey }
            shards.append(
                LocalShard(
                    id: Self.shardID(nextShardOrdinal),
                    ordinal: nextShardOrdinal,
                    parentID: covering.first?.id,
                    adjacentParentID: covering.count > 1 ? covering[1].id : nil,
                    startingHashKey: start,
                    endingHashKey: end,
                    startingCounter: nextCounter,
                    recordsBucket: TokenBucket(rate: shardLimits.recordsPerSecond, now: now),
                    bytesBucket: TokenBucket(rate: shardLimits.bytesPerSecond, now: now)
                )
            )
            nextShardOrdinal += 1
        }
        rebuildRouting()
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
