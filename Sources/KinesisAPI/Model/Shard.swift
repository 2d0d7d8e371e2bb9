/// A shard as ListShards and DescribeStream describe it.
public struct Shard: Sendable, Hashable, Decodable {
    /// `shardId-000000000000`.
    public var shardID: String
    /// The shard this one was split from or merged into, after a reshard.
    public var parentShardID: String?
    /// The other parent of a merge.
    public var adjacentParentShardID: String?
    /// The inclusive range of hash keys the shard owns.
    public var hashKeyRange: HashKeyRange
    /// The sequence numbers of the shard; an ending number means the shard is closed.
    public var sequenceNumberRange: SequenceNumberRange

    /// An inclusive range of hash keys.
    public struct HashKeyRange: Sendable, Hashable, Decodable {
        /// The lowest hash key the shard owns.
        public var startingHashKey: HashKey
        /// The highest hash key the shard owns (inclusive).
        public var endingHashKey: HashKey

        /// Creates a range.
        public init(startingHashKey: HashKey, endingHashKey: HashKey) {
            self.startingHashKey = startingHashKey
            self.endingHashKey = endingHashKey
        }

        /// Whether `key` falls in the range (both ends inclusive, as Kinesis routes).
        public func contains(_ key: HashKey) -> Bool { startingHashKey <= key && key <= endingHashKey }

        enum CodingKeys: String, CodingKey {
            case startingHashKey = "StartingHashKey", endingHashKey = "EndingHashKey"
        }
    }

    /// The sequence numbers a shard has handed out (decimal strings).
    public struct SequenceNumberRange: Sendable, Hashable, Decodable {
        /// The first sequence number of the shard.
        public var startingSequenceNumber: String
        /// The last one, once the shard is closed.
        public var endingSequenceNumber: String?

        enum CodingKeys: String, CodingKey {
            case startingSequenceNumber = "StartingSequenceNumber", endingSequenceNumber = "EndingSequenceNumber"
        }
    }

    /// Whether the shard takes writes: only shards without an ending sequence number do.
    public var isOpen: Bool { sequenceNumberRange.endingSequenceNumber == nil }

    enum CodingKeys: String, CodingKey {
        case shardID = "ShardId", parentShardID = "ParentShardId", adjacentParentShardID = "AdjacentParentShardId"
        case hashKeyRange = "HashKeyRange", sequenceNumberRange = "SequenceNumberRange"
    }
}
