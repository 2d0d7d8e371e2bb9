/// The answer to PutRecord.
public struct PutRecordResult: Sendable, Hashable, Decodable {
    /// The shard the record landed on.
    public var shardID: String
    /// The record's sequence number (decimal string).
    public var sequenceNumber: String
    /// `NONE` or `KMS`.
    public var encryptionType: String?

    enum CodingKeys: String, CodingKey {
        case shardID = "ShardId", sequenceNumber = "SequenceNumber", encryptionType = "EncryptionType"
    }
}
