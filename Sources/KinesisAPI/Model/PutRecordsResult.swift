/// The answer to PutRecords: one entry per request record, in request order.
public struct PutRecordsResult: Sendable, Hashable, Decodable {
    /// Per-record outcomes, matching the request's records by position.
    public var records: [Entry]
    /// Records that failed; `0` when absent (AWS omits it on full success).
    public var failedRecordCount: Int
    /// `NONE` or `KMS`.
    public var encryptionType: String?

    /// The outcome of one record: a shard and sequence number, or an error code and message.
    public struct Entry: Sendable, Hashable, Decodable {
        /// The sequence number, a decimal string of up to 129 digits.
        public var sequenceNumber: String?
        /// The shard the record landed on.
        public var shardID: String?
        /// `ProvisionedThroughputExceededException` or `InternalFailure`, when the record failed.
        public var errorCode: String?
        /// Kinesis's explanation of the failure.
        public var errorMessage: String?

        /// Whether the record was stored.
        public var succeeded: Bool { errorCode == nil && sequenceNumber != nil }

        /// Creates an entry (for tests and fakes).
        public init(sequenceNumber: String? = nil, shardID: String? = nil, errorCode: String? = nil, errorMessage: String? = nil) {
            self.sequenceNumber = sequenceNumber
            self.shardID = shardID
            self.errorCode = errorCode
            self.errorMessage = errorMessage
        }

        enum CodingKeys: String, CodingKey {
            case sequenceNumber = "SequenceNumber", shardID = "ShardId", errorCode = "ErrorCode"
            case errorMessage = "ErrorMessage"
        }
    }

    /// Creates a result (for tests and fakes).
    public init(records: [Entry], failedRecordCount: Int? = nil, encryptionType: String? = nil) {
        self.records = records
        self.failedRecordCount = failedRecordCount ?? records.filter { !$0.succeeded }.count
        self.encryptionType = encryptionType
    }

    enum CodingKeys: String, CodingKey {
        case records = "Records", failedRecordCount = "FailedRecordCount", encryptionType = "EncryptionType"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        records = try container.decode([Entry].self, forKey: .records)
        failedRecordCount = try container.decodeIfPresent(Int.self, forKey: .failedRecordCount) ?? 0
        encryptionType = try container.decodeIfPresent(String.self, forKey: .encryptionType)
    }
}
