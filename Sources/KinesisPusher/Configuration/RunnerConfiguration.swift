import AsyncHTTPClient
import CoreMetrics
import Logging

/// How a ``Runner`` batches, paces, retries and reports. Every default is what a Kinesis user expects; the
/// builder methods of ``Runner`` (`withIntervals`, `withAsync`, …) set these.
public struct RunnerConfiguration: Sendable {
    /// Records accepted but not yet in flight; `send` suspends while it is full. Default 1000 (the seed's).
    public var bufferSize: Int
    /// An optional cap on the bytes (data plus keys) of those records. Default none.
    public var maxBufferedBytes: Int?
    /// PutRecords calls in flight in async mode. Default 10 (the seed's).
    public var maxConcurrentPuts: Int
    /// Async: keep up to ``maxConcurrentPuts`` calls in flight. Sync (the default): one call at a time, each
    /// answer handled before the next.
    public var isAsync: Bool
    /// Log a line of counters every ``debugInterval``. Default off.
    public var isDebug: Bool
    /// How often the debug line is logged. Default 5 seconds.
    public var debugInterval: Duration
    /// How often the open shards are listed again (also at once after a record lands on an unexpected shard).
    /// Default 30 seconds.
    public var shardRefreshInterval: Duration
    /// The longest a record waits for a fuller batch. Default 100 ms.
    public var flushInterval: Duration
    /// How long a record may take, retries included, before it fails as expired; `nil` never expires it.
    /// Default 30 seconds.
    public var recordTTL: Duration?
    /// PutRecords attempts per record; `nil` retries until the TTL. Default `nil`.
    public var maxAttempts: Int?
    /// Records per PutRecords call, 1–500. Default 500.
    public var maxRecordsPerRequest: Int
    /// Bytes (data plus keys) per PutRecords call. Default 5 MiB; Kinesis takes up to 10 MiB.
    public var maxRequestBytes: Int
    /// Share of each shard's limits (1000 records/s, 1 MiB/s) the runner aims for, in percent; `nil` sends as fast
    /// as Kinesis answers and leaves pacing to its throttling (for emulators without limits). Default 100.
    public var rateLimitPercent: Double?
    /// The first retry waits up to this long (full jitter); later ones double it. Default 100 ms.
    public var retryBaseDelay: Duration
    /// The longest retry wait. Default 5 seconds.
    public var retryMaxDelay: Duration
    /// Seeds the generator that draws the retry jitter, so a run with a failure can be replayed exactly from its
    /// seed; `nil` (the default) seeds it from the system.
    public var jitterSeed: UInt64?
    /// How long a graceful shutdown may spend flushing before the rest fails with ``ProducerError/Code/shutdown``.
    /// Default 25 seconds.
    public var shutdownTimeout: Duration
    /// Called for every record given to `send` that fails (records given to `put` throw instead). It runs on the
    /// runner's task: keep it short and never block in it.
    public var failureHandler: (@Sendable (ProducerFailure) -> Void)?
    /// Where the runner logs (state changes, retries at debug level, the debug line). Default: nothing.
    public var logger: Logger
    /// The HTTP client for Kinesis, STS and the credential endpoints; `nil` makes the runner create its own,
    /// sized to ``maxConcurrentPuts``.
    public var httpClient: HTTPClient?
    /// Where metrics go once ``Runner/configureWithMetrics(_:)`` turns them on; `nil` means the globally
    /// bootstrapped `MetricsSystem.factory`. Nothing is bootstrapped by the runner.
    public var metricsFactory: (any MetricsFactory)?
    /// Also report delivered and throttled records per shard (a `shard` label). Off by default: with hundreds
    /// of shards the label count explodes.
    public var metricsPerShard: Bool
    /// Pack small records into KPL aggregated records; `nil` (the default) sends each record as its own Kinesis
    /// record.
    public var aggregation: Aggregation?
    /// Whether records of one partition key must reach Kinesis in the order they were sent. Default
    /// ``Ordering/none``.
    public var ordering: Ordering

    /// The seed's two numbers; everything else at its default.
    public init(bufferSize: Int = 1000, maxConcurrentPuts: Int = 10) {
        self.bufferSize = max(1, bufferSize)
        self.maxBufferedBytes = nil
        self.maxConcurrentPuts = max(1, maxConcurrentPuts)
        self.isAsync = false
        self.isDebug = false
        self.debugInterval = .seconds(5)
        self.shardRefreshInterval = .seconds(30)
        self.flushInterval = .milliseconds(100)
        self.recordTTL = .seconds(30)
        self.maxAttempts = nil
        self.maxRecordsPerRequest = 500
        self.maxRequestBytes = 5 << 20
        self.rateLimitPercent = 100
        self.retryBaseDelay = .milliseconds(100)
        self.retryMaxDelay = .seconds(5)
        self.jitterSeed = nil
        self.shutdownTimeout = .seconds(25)
        self.failureHandler = nil
        self.logger = Logger(label: "kinesis-pusher", factory: { _ in SwiftLogNoOpLogHandler() })
        self.httpClient = nil
        self.metricsFactory = nil
        self.metricsPerShard = false
        self.aggregation = nil
        self.ordering = .none
    }
}
