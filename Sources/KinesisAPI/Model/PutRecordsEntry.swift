/// One record of a PutRecords request.
public struct PutRecordsEntry: Sendable, Hashable {
    /// The payload; Kinesis limits data plus partition key to the stream's max record size (1 MiB by default).
    public var data: [UInt8]
    /// Decides the shard (by MD5) unless an explicit hash key is given; 1–256 characters.
    public var partitionKey: String
    /// A decimal hash key that overrides the partition key's hash for routing.
    public var explicitHashKey: String?

    /// Creates an entry.
    public init(data: [UInt8], partitionKey: String, explicitHashKey: String? = nil) {
        self.data = data
        self.partitionKey = partitionKey
        self.explicitHashKey = explicitHashKey
    }

    /// What the entry counts against the record and request size limits: data bytes plus UTF-8 key bytes.
    public var billedSize: Int { data.count + partitionKey.utf8.count }
}
