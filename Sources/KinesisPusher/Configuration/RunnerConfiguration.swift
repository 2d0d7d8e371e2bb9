import AsyncHTTPClient
import Logging

/// How a ``Runner`` buffers, batches, paces, retries and reports, in groups: ``Buffer``, ``Batching``,
/// ``Concurrency``, ``Retry``, ``Pacing``, ``Metrics`` and ``Diagnostics``, each with its own defaults. Every
/// default is what a Kinesis user expects; the builder methods of ``Runner`` (`withIntervals`, `withAsync`, …) set
/// these.
///
/// ```swift
/// var configuration = RunnerConfiguration(buffer: .init(size: 20_000), concurrency: .init(isAsync: true))
/// configuration.batching.flushInterval = .milliseconds(50)
/// configuration.retry.recordTTL = .seconds(60)
/// let runner = Runner(configuration: configuration)
/// ```
public struct RunnerConfiguration: Sendable {
    /// The records held before they are in flight (`send` suspends while it is full). Default 1000 records, no
    /// byte cap.
    public var buffer: Buffer
    /// How records are gathered into PutRecords calls. Default 500 records or 5 MiB a call, flushed after 100 ms.
    public var batching: Batching
    /// Sync (one call at a time, the default) or async (up to ``Concurrency/maxConcurrentPuts``, default 10).
    public var concurrency: Concurrency
    /// Retries with exponential backoff and full jitter. Default 100 ms to 5 seconds, until a 30-second TTL.
    public var retry: Retry
    /// The client-side rate limit per shard. Default 100 % of each shard's limits.
    public var pacing: Pacing
    /// Where metrics go once ``Runner/configureWithMetrics(_:)`` turns them on. Default the global factory.
    public var metrics: Metrics
    /// The seed's debug line of counters. Default off.
    public var diagnostics: Diagnostics
    /// How often the open shards are listed again (also at once after a record lands on an unexpected shard).
    /// Default 30 seconds.
    public var shardRefreshInterval: Duration
    /// How long a graceful shutdown may spend flushing before the rest fails with ``RunnerError/Code/shutdown``.
    /// Default 25 seconds.
    public var shutdownTimeout: Duration
    /// Called for every record given to `send` that fails (records given to `put` throw instead). It runs on the
    /// runner's task: keep it short and never block in it.
    public var failureHandler: (@Sendable (RunnerFailure) -> Void)?
    /// Called after each answer with the ``Record/tag``s of the records given to `send` that it delivered, in no
    /// particular order. With ``failureHandler``, every record given to `send` reaches exactly one of the two. It
    /// runs on the runner's task: keep it short and never block in it.
    public var deliveryHandler: (@Sendable ([UInt64]) -> Void)?
    /// Where the runner logs (state changes, retries at debug level, the debug line). Default: nothing.
    public var logger: Logger
    /// The HTTP client for Kinesis, STS and the credential endpoints; `nil` makes the runner create its own,
    /// sized to ``Concurrency/maxConcurrentPuts``.
    public var httpClient: HTTPClient?
    /// Pack small records into KPL aggregated records; `nil` (the default) sends each record as its own Kinesis
    /// record.
    public var aggregation: Aggregation?
    /// Whether records of one partition key must reach Kinesis in the order they were sent. Default
    /// ``Ordering/none``.
    public var ordering: Ordering

    /// A configuration with every group given or at its defaults.
    public init(
        buffer: Buffer = .init(),
        batching: Batching = .init(),
        concurrency: Concurrency = .init(),
        retry: Retry = .init(),
        pacing: Pacing = .init(),
        metrics: Metrics = .init(),
        diagnostics: Diagnostics = .init(),
        shardRefreshInterval: Duration = .seconds(30),
        shutdownTimeout: Duration = .seconds(25),
        failureHandler: (@Sendable (RunnerFailure) -> Void)? = nil,
        deliveryHandler: (@Sendable ([UInt64]) -> Void)? = nil,
        logger: Logger = Logger(label: "kinesis-pusher", factory: { _ in SwiftLogNoOpLogHandler() }),
        httpClient: HTTPClient? = nil,
        aggregation: Aggregation? = nil,
        ordering: Ordering = .none
    ) {
        self.buffer = buffer
        self.batching = batching
        self.concurrency = concurrency
        self.retry = retry
        self.pacing = pacing
        self.metrics = metrics
        self.diagnostics = diagnostics
        self.shardRefreshInterval = shardRefreshInterval
        self.shutdownTimeout = shutdownTimeout
        self.failureHandler = failureHandler
        self.deliveryHandler = deliveryHandler
        self.logger = logger
        self.httpClient = httpClient
        self.aggregation = aggregation
        self.ordering = ordering
    }
}
