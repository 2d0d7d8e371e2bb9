import AWSCredentials
import AsyncHTTPClient
import CoreMetrics
import Logging
import Synchronization

/// The seed's builder options (`WithIntervals`, `WithAsync`, `WithDebug`) and the ones the seed lacked. Each
/// returns the runner, so they chain; they take effect until ``Runner/run()`` starts or the first record is sent
/// (after that a change is ignored with a warning: applying it would drop the records taken).
extension Runner {
    /// How often the open shards are listed again, and the longest a record waits for a fuller batch.
    @discardableResult
    public func withIntervals(shardRefresh: Duration, flush: Duration) -> Runner {
        updating {
            $0.shardRefreshInterval = shardRefresh
            $0.batching.flushInterval = flush
        }
    }

    /// Keep up to `maxConcurrentPuts` PutRecords calls in flight instead of one at a time.
    @discardableResult
    public func withAsync() -> Runner {
        updating { $0.concurrency.isAsync = true }
    }

    /// Log a line of counters (sent, delivered, failed, recovered, retries, throttled, in flight, buffered)
    /// every `interval`.
    @discardableResult
    public func withDebug(interval: Duration = .seconds(5)) -> Runner {
        updating {
            $0.diagnostics.isDebug = true
            $0.diagnostics.debugInterval = interval
        }
    }

    /// How long a record may take, retries included; `nil` never expires records.
    @discardableResult
    public func withRecordTTL(_ ttl: Duration?) -> Runner {
        updating { $0.retry.recordTTL = ttl }
    }

    /// PutRecords attempts per record; `nil` retries until the TTL.
    @discardableResult
    public func withMaxAttempts(_ attempts: Int?) -> Runner {
        updating { $0.retry.maxAttempts = attempts.map { max(1, $0) } }
    }

    /// Bytes (data plus keys) per PutRecords call: 5 MiB by default, up to 10 MiB on AWS today.
    @discardableResult
    public func withMaxRequestBytes(_ bytes: Int) -> Runner {
        updating { $0.batching.maxRequestBytes = max(1024, bytes) }
    }

    /// Share of each shard's write limits to aim for, in percent (100 by default); `nil` turns the client-side
    /// limit off.
    @discardableResult
    public func withRateLimit(percent: Double?) -> Runner {
        updating { $0.pacing.rateLimitPercent = percent.map { max(1, $0) } }
    }

    /// An optional cap on buffered bytes, beside the record count.
    @discardableResult
    public func withMaxBufferedBytes(_ bytes: Int?) -> Runner {
        updating { $0.buffer.maxBytes = bytes }
    }

    /// Called with every record given to `send` that fails for good. Runs on the runner's task: keep it short.
    @discardableResult
    public func withFailureHandler(_ handler: @escaping @Sendable (RunnerFailure) -> Void) -> Runner {
        updating { $0.failureHandler = handler }
    }

    /// Called after each answer with the tags of the `send` records it delivered. Runs on the runner's task: keep
    /// it short.
    @discardableResult
    public func withDeliveryHandler(_ handler: @escaping @Sendable ([UInt64]) -> Void) -> Runner {
        updating { $0.deliveryHandler = handler }
    }

    /// Where the runner logs.
    @discardableResult
    public func withLogger(_ logger: Logger) -> Runner {
        updating { $0.logger = logger }
    }

    /// The HTTP client to use for Kinesis and credentials, instead of the runner's own. Make it with
    /// `KinesisClient.httpConfiguration(_:)`, or at least without following redirects: a redirect would carry signed
    /// requests and session tokens to another host.
    @discardableResult
    public func withHTTPClient(_ client: HTTPClient) -> Runner {
        updating { $0.httpClient = client }
    }

    /// The swift-metrics factory ``configureWithMetrics(_:)`` reports to (for example swift-prometheus's), instead
    /// of the global `MetricsSystem.factory`.
    @discardableResult
    public func withMetricsFactory(_ factory: any MetricsFactory, perShard: Bool = false) -> Runner {
        updating {
            $0.metrics = .init(factory: factory, perShard: perShard)
        }
    }

    /// Pack small records into KPL aggregated records, per predicted shard (see
    /// ``RunnerConfiguration/Aggregation``). Consumers must deaggregate (the KCL and `aws-kinesis-agg` do).
    /// Raise the buffer size with it: an aggregate fills only from records buffered at the same time.
    @discardableResult
    public func withAggregation(maxSize: Int = 51_200, maxCount: Int = .max) -> Runner {
        updating { $0.aggregation = .init(maxSize: maxSize, maxCount: maxCount) }
    }

    /// Keep records of one partition key in send order, across retries and in async mode (see
    /// ``RunnerConfiguration/Ordering/perPartitionKey`` for the cost).
    @discardableResult
    public func withOrdering(_ ordering: RunnerConfiguration.Ordering) -> Runner {
        updating { $0.ordering = ordering }
    }

    /// Credentials from `provider` instead of the default chain (call before ``configure(_:)``).
    @discardableResult
    public func withCredentialProvider(_ provider: any CredentialProvider) -> Runner {
        settings.withLock { $0.explicitCredentialProvider = provider }
        return self
    }
}
