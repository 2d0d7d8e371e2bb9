/// A record to put into the stream.
public struct Record: Sendable, Hashable {
    /// The payload.
    public var data: [UInt8]
    /// Picks the shard (by MD5) unless ``explicitHashKey`` is set; 1–256 characters.
    public var partitionKey: String
    /// A decimal hash key (0 … 2^128 − 1) that routes the record instead of the partition key's hash.
    public var explicitHashKey: String?
    /// A number of the caller's, never sent: ``RunnerConfiguration/deliveryHandler`` hands it back once the record
    /// is delivered, so a caller can tell which part of its input is safe (a file position to checkpoint). Default 0.
    public var tag: UInt64

    /// A record from bytes.
    public init(data: [UInt8], partitionKey: String, explicitHashKey: String? = nil, tag: UInt64 = 0) {
        self.data = data
        self.partitionKey = partitionKey
        self.explicitHashKey = explicitHashKey
        self.tag = tag
    }

    /// A record from any byte sequence (`Data`, `ByteBuffer.readableBytesView`, …).
    public init(data: some Sequence<UInt8>, partitionKey: String, explicitHashKey: String? = nil, tag: UInt64 = 0) {
        self.init(data: Array(data), partitionKey: partitionKey, explicitHashKey: explicitHashKey, tag: tag)
    }

    /// A record whose payload is the UTF-8 of `text`.
    public init(text: String, partitionKey: String, explicitHashKey: String? = nil, tag: UInt64 = 0) {
        self.init(data: Array(text.utf8), partitionKey: partitionKey, explicitHashKey: explicitHashKey, tag: tag)
    }

    /// What the record counts against Kinesis's limits: data bytes plus the key's UTF-8 bytes.
    public var billedSize: Int { data.count + partitionKey.utf8.count }
}
