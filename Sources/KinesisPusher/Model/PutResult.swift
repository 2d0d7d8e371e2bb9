/// Where a record landed, once Kinesis acknowledged it.
public struct PutResult: Sendable, Hashable {
    /// The shard that stored the record.
    public var shardID: String
    /// Its sequence number (a decimal string of up to 129 digits).
    public var sequenceNumber: String
    /// PutRecords attempts it took, the successful one included; more than 1 means it was **recovered**.
    public var attempts: Int
    /// From acceptance (`put`/`send`) to Kinesis's acknowledgement.
    public var latency: Duration

    /// Creates a result.
    public init(shardID: String, sequenceNumber: String, attempts: Int, latency: Duration) {
        self.shardID = shardID
        self.sequenceNumber = sequenceNumber
        self.attempts = attempts
        self.latency = latency
    }
}
