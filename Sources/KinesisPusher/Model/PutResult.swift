/// Where a record landed, once Kinesis acknowledged it.
public struct PutResult: Sendable, Hashable {
    /// The shard that stored the record.
    public var shardID: String
    /// Its sequence number (a decimal string of up to 129 digits).
    public var sequenceNumber: String
    /// The record's index inside its KPL aggregate (the KCL's sub-sequence number), with ``sequenceNumber`` the
    /// aggregate's; `nil` when it was sent as a Kinesis record of its own.
    public var subSequenceNumber: Int?
    /// PutRecords attempts it took, the successful one included; more than 1 means it was **recovered**.
    public var attempts: Int
    /// From acceptance (`put`/`send`) to Kinesis's acknowledgement.
    public var latency: Duration

    /// Creates a result.
    public init(shardID: String, sequenceNumber: String, subSequenceNumber: Int? = nil, attempts: Int, latency: Duration) {
        self.shardID = shardID
        self.sequenceNumber = sequenceNumber
        self.subSequenceNumber = subSequenceNumber
        self.attempts = attempts
        self.latency = latency
    }
}
