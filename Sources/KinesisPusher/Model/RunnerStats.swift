/// The runner's counters: what `--report json` prints and `withDebug` logs.
public struct RunnerStats: Sendable, Hashable, Codable {
    /// Records accepted by `send`/`put`/`trySend`.
    public var sent = 0
    /// Records Kinesis acknowledged.
    public var delivered = 0
    /// Records that ended failed (each counted once).
    public var failed = 0
    /// Delivered records that needed more than one attempt (also counted in ``delivered``).
    public var recovered = 0
    /// Record attempts beyond the first.
    public var retries = 0
    /// Record attempts Kinesis throttled (`ProvisionedThroughputExceededException`, per entry or per request).
    public var throttled = 0
    /// Records refused at the door (invalid, buffer full on `trySend`, after shutdown).
    public var rejected = 0
    /// PutRecords calls made.
    public var requests = 0
    /// PutRecords calls in flight now.
    public var inFlight = 0
    /// Records waiting in the buffer (ready or backing off) now.
    public var buffered = 0
    /// Bytes (data plus keys) Kinesis acknowledged.
    public var deliveredBytes = 0

    /// Kinesis records acknowledged: one per delivered record, or one per aggregate with aggregation on.
    public var deliveredKinesisRecords = 0
    /// Delivered records that went inside an aggregate (also counted in ``delivered``).
    public var aggregated = 0
    /// Records packed again and resent because their aggregate landed, after a reshard, on a shard that does
    /// not own all of its records (a KCL consumer drops such an aggregate whole).
    public var reaggregated = 0

    /// All zero.
    public init() {}
}
