import NIOCore

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
        ///
        /// An entry read from an answer holds that answer's bytes until it is dropped, and makes the String on
        /// each read: keep the String, not the entry, when holding on to many.
        public var sequenceNumber: String? {
            get { storedSequenceNumber.text }
            set { storedSequenceNumber = .text(newValue) }
        }
        /// The shard the record landed on.
        public var shardID: String?
        /// `ProvisionedThroughputExceededException` or `InternalFailure`, when the record failed.
        public var errorCode: String?
        /// Kinesis's explanation of the failure.
        public var errorMessage: String?

        /// Read from an answer, the sequence number stays bytes of it until someone asks: a producer that
        /// reports no sequence numbers makes no String (an allocation and a copy) per record.
        var storedSequenceNumber: SequenceNumberText

        /// Whether the record was stored.
        public var succeeded: Bool { errorCode == nil && storedSequenceNumber.isPresent }

        /// Creates an entry (for tests and fakes).
        public init(sequenceNumber: String? = nil, shardID: String? = nil, errorCode: String? = nil, errorMessage: String? = nil) {
            self.storedSequenceNumber = .text(sequenceNumber)
            self.shardID = shardID
            self.errorCode = errorCode
            self.errorMessage = errorMessage
        }

        init(sequenceNumberBytes: ByteBuffer?, shardID: String?, errorCode: String?, errorMessage: String?) {
            self.init(shardID: shardID, errorCode: errorCode, errorMessage: errorMessage)
            if let sequenceNumberBytes { storedSequenceNumber = .bytes(sequenceNumberBytes) }
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                sequenceNumber: try container.decodeIfPresent(String.self, forKey: .sequenceNumber),
                shardID: try container.decodeIfPresent(String.self, forKey: .shardID),
                errorCode: try container.decodeIfPresent(String.self, forKey: .errorCode),
                errorMessage: try container.decodeIfPresent(String.self, forKey: .errorMessage)
            )
        }

        public static func == (left: Entry, right: Entry) -> Bool {
            left.sequenceNumber == right.sequenceNumber && left.shardID == right.shardID && left.errorCode == right.errorCode
                && left.errorMessage == right.errorMessage
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(sequenceNumber)
            hasher.combine(shardID)
            hasher.combine(errorCode)
            hasher.combine(errorMessage)
        }

        enum CodingKeys: String, CodingKey {
            case sequenceNumber = "SequenceNumber", shardID = "ShardId", errorCode = "ErrorCode"
            case errorMessage = "ErrorMessage"
        }
    }

    /// A sequence number as given, or as the (ASCII) bytes of the answer it was read from.
    enum SequenceNumberText: Sendable {
        case text(String?)
        case bytes(ByteBuffer)

        var isPresent: Bool {
            if case .text(nil) = self { return false }
            return true
        }

        var text: String? {
            switch self {
            case .text(let text): text
            case .bytes(let bytes): String(buffer: bytes)
            }
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
