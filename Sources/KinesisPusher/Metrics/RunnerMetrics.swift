import Backoff
import CoreMetrics
import Metrics
import Synchronization

/// The runner's swift-metrics instruments, made once from the injected factory.
///
/// Names are stable (they are an interface for dashboards); labels stay low-cardinality: `stream`, plus `status`,
/// `error_code` or `shard`, whose values are bounded where they are counted (``errorCodeLabel(_:)``,
/// ``shardLabel(_:isKnown:)``: anything an endpoint makes up is `other`). Counters are published from the runner's counters as deltas a few times a second, so the
/// hot path pays only for the per-record latency histogram.
final class RunnerMetrics: Sendable {
    /// Metric names, as exposed to Prometheus.
    enum Name {
        static let pushDelay = "kinesis_pusher_push_delay_seconds"
        static let recordLatency = "kinesis_pusher_record_latency_seconds"
        static let records = "kinesis_pusher_records_total"
        static let accepted = "kinesis_pusher_records_accepted_total"
        static let rejected = "kinesis_pusher_records_rejected_total"
        static let expired = "kinesis_pusher_records_expired_total"
        static let deliveredBytes = "kinesis_pusher_delivered_bytes_total"
        static let kinesisRecords = "kinesis_pusher_kinesis_records_total"
        static let reaggregated = "kinesis_pusher_reaggregated_records_total"
        static let retries = "kinesis_pusher_retries_total"
        static let throttled = "kinesis_pusher_throttled_records_total"
        static let failedAttempts = "kinesis_pusher_failed_attempts_total"
        static let requests = "kinesis_pusher_put_requests_total"
        static let requestErrors = "kinesis_pusher_put_request_errors_total"
        static let inFlight = "kinesis_pusher_in_flight_requests"
        static let bufferedRecords = "kinesis_pusher_buffered_records"
        static let bufferedBytes = "kinesis_pusher_buffered_bytes"
        static let oldestAge = "kinesis_pusher_oldest_buffered_record_age_seconds"
        static let rateLimit = "kinesis_pusher_rate_limit_records_per_second"
        static let openShards = "kinesis_pusher_open_shards"
        static let concurrency = "kinesis_pusher_concurrency_limit"
        static let credentialRefreshes = "kinesis_pusher_credential_refreshes_total"
        static let credentialFailures = "kinesis_pusher_credential_failures_total"
        static let shardDelivered = "kinesis_pusher_shard_delivered_records_total"
        static let shardThrottled = "kinesis_pusher_shard_throttled_records_total"
    }

    /// Help text of each metric, for exporters that show it (`# HELP`).
    static let help: [String: String] = [
        Name.pushDelay: "Time from a batch being handed to its PutRecords call until the call finished (the seed's push delay).",
        Name.recordLatency: "Time from a record's acceptance until Kinesis acknowledged it.",
        Name.records: "Records by final state: success (delivered), recovered (delivered after a failed attempt; also counted as success and failed), failed (failed at least one attempt or for good); failed minus recovered is the records lost.",
        Name.accepted: "Records accepted by send, put or trySend.",
        Name.rejected: "Records refused at the door: invalid, buffer full on trySend, or after shutdown began.",
        Name.expired: "Records that ran out of time to live while retrying.",
        Name.deliveredBytes: "Bytes (data plus partition keys) of delivered records.",
        Name.kinesisRecords: "Kinesis records acknowledged: one per delivered record, or one per aggregate with aggregation on (records_total counts user records).",
        Name.reaggregated: "User records packed again and resent because their aggregate landed, after a reshard, on a shard that does not own all of them.",
        Name.retries: "Record attempts beyond the first.",
        Name.throttled: "Record attempts Kinesis throttled, by error code.",
        Name.failedAttempts: "Record attempts that failed for reasons other than throttling, by error code.",
        Name.requests: "PutRecords calls made.",
        Name.requestErrors: "PutRecords calls that failed as a whole, by error code.",
        Name.inFlight: "PutRecords calls in flight.",
        Name.bufferedRecords: "Records waiting in the buffer (ready or backing off).",
        Name.bufferedBytes: "Bytes (data plus keys) of the records waiting in the buffer.",
        Name.oldestAge: "Age of the longest-waiting buffered record.",
        Name.rateLimit: "Records per second the rate limiter allows now, over all shards (absent when the limit is off).",
        Name.openShards: "Open shards in the runner's shard map.",
        Name.concurrency: "PutRecords calls allowed in flight now (adaptive).",
        Name.credentialRefreshes: "Times the credentials were fetched anew.",
        Name.credentialFailures: "Times fetching credentials failed (no answer, an error, or credentials already expiring).",
        Name.shardDelivered: "Delivered records by shard (only with per-shard metrics).",
        Name.shardThrottled: "Throttled record attempts by predicted shard (only with per-shard metrics).",
    ]

    let stream: String
    let factory: any MetricsFactory
    let pushDelay: Metrics.Timer
    let recordLatency: Metrics.Timer
    private let success: Counter
    private let recovered: Counter
    private let failed: Counter
    private let accepted: Counter
    private let rejected: Counter
    private let expired: Counter
    private let deliveredBytes: Counter
    private let kinesisRecords: Counter
    private let reaggregated: Counter
    private let retries: Counter
    private let requests: Counter
    private let credentialRefreshes: Counter
    private let credentialFailures: Counter
    private let inFlight: Gauge
    private let bufferedRecords: Gauge
    private let bufferedBytes: Gauge
    private let oldestAge: Gauge
    private let rateLimit: Gauge
    private let openShards: Gauge
    private let concurrency: Gauge

    private struct Published {
        var stats = RunnerStats()
        var tally = RunnerStateMachine.Tally()
        var credentialRefreshes = 0
        var credentialFailures = 0
        /// Counters with a second label (error code or shard), made on first use.
        var labelled: [String: Counter] = [:]
    }
    private let published = Mutex(Published())
    /// Record latencies waiting to be recorded: completions hand them over a batch at a time (one lock per
    /// batch), and ``publish(_:)`` records them from the run loop, so concurrent completions never contend on the
    /// histogram's lock record by record.
    private let pendingLatencies = Mutex<[Int64]>([])

    func queueLatencies(_ latencies: some Sequence<Duration>) {
        let nanoseconds = latencies.map(\.inNanoseconds)
        guard !nanoseconds.isEmpty else { return }
        pendingLatencies.withLock { $0.append(contentsOf: nanoseconds) }
    }

    init(stream: String, factory: any MetricsFactory) {
        self.stream = stream
        self.factory = factory
        let dimensions = [("stream", stream)]
        pushDelay = Metrics.Timer(label: Name.pushDelay, dimensions: dimensions, factory: factory)
        recordLatency = Metrics.Timer(label: Name.recordLatency, dimensions: dimensions, factory: factory)
        success = Counter(label: Name.records, dimensions: dimensions + [("status", "success")], factory: factory)
        recovered = Counter(label: Name.records, dimensions: dimensions + [("status", "recovered")], factory: factory)
        failed = Counter(label: Name.records, dimensions: dimensions + [("status", "failed")], factory: factory)
        accepted = Counter(label: Name.accepted, dimensions: dimensions, factory: factory)
        rejected = Counter(label: Name.rejected, dimensions: dimensions, factory: factory)
        expired = Counter(label: Name.expired, dimensions: dimensions, factory: factory)
        deliveredBytes = Counter(label: Name.deliveredBytes, dimensions: dimensions, factory: factory)
        kinesisRecords = Counter(label: Name.kinesisRecords, dimensions: dimensions, factory: factory)
        reaggregated = Counter(label: Name.reaggregated, dimensions: dimensions, factory: factory)
        retries = Counter(label: Name.retries, dimensions: dimensions, factory: factory)
        requests = Counter(label: Name.requests, dimensions: dimensions, factory: factory)
        credentialRefreshes = Counter(label: Name.credentialRefreshes, dimensions: dimensions, factory: factory)
        credentialFailures = Counter(label: Name.credentialFailures, dimensions: dimensions, factory: factory)
        inFlight = Gauge(label: Name.inFlight, dimensions: dimensions, factory: factory)
        bufferedRecords = Gauge(label: Name.bufferedRecords, dimensions: dimensions, factory: factory)
        bufferedBytes = Gauge(label: Name.bufferedBytes, dimensions: dimensions, factory: factory)
        oldestAge = Gauge(label: Name.oldestAge, dimensions: dimensions, factory: factory)
        rateLimit = Gauge(label: Name.rateLimit, dimensions: dimensions, factory: factory)
        openShards = Gauge(label: Name.openShards, dimensions: dimensions, factory: factory)
        concurrency = Gauge(label: Name.concurrency, dimensions: dimensions, factory: factory)
    }

    /// What the runner's state looks like now, read under its lock.
    struct Reading {
        var stats: RunnerStats
        var tally: RunnerStateMachine.Tally
        var bufferedBytes: Int
        var oldestAge: Duration?
        var recordsPerSecond: Double?
        var openShards: Int?
        var concurrencyLimit: Double
        var credentialRefreshes: Int
        var credentialFailures: Int
    }

    /// Publishes what changed since the last call: queued latencies, counter deltas and current gauges.
    func publish(_ reading: Reading) {
        let latencies = pendingLatencies.withLock { pending in
            let taken = pending
            pending = []
            return taken
        }
        let timer = recordLatency
        for value in latencies { timer.recordNanoseconds(value) }
        published.withLock { last in
            let stats = reading.stats
            success.increment(by: stats.delivered - last.stats.delivered)
            recovered.increment(by: stats.recovered - last.stats.recovered)
            // Seed semantics: every record that failed an attempt counts as failed, so failed − recovered is lost.
            failed.increment(by: (stats.failed - last.stats.failed) + (stats.recovered - last.stats.recovered))
            accepted.increment(by: stats.sent - last.stats.sent)
            rejected.increment(by: stats.rejected - last.stats.rejected)
            deliveredBytes.increment(by: stats.deliveredBytes - last.stats.deliveredBytes)
            kinesisRecords.increment(by: stats.deliveredKinesisRecords - last.stats.deliveredKinesisRecords)
            reaggregated.increment(by: stats.reaggregated - last.stats.reaggregated)
            retries.increment(by: stats.retries - last.stats.retries)
            requests.increment(by: stats.requests - last.stats.requests)
            expired.increment(by: reading.tally.expired - last.tally.expired)
            credentialRefreshes.increment(by: reading.credentialRefreshes - last.credentialRefreshes)
            credentialFailures.increment(by: reading.credentialFailures - last.credentialFailures)
            for (name, label, now, before) in [
                (Name.throttled, "error_code", reading.tally.throttledRecords, last.tally.throttledRecords),
                (Name.failedAttempts, "error_code", reading.tally.failedAttempts, last.tally.failedAttempts),
                (Name.requestErrors, "error_code", reading.tally.requestErrors, last.tally.requestErrors),
                (Name.shardDelivered, "shard", reading.tally.deliveredByShard, last.tally.deliveredByShard),
                (Name.shardThrottled, "shard", reading.tally.throttledByShard, last.tally.throttledByShard),
            ] {
                for (value, count) in now where count != before[value, default: 0] {
                    let key = name + "|" + value
                    let counter = last.labelled[key] ?? Counter(label: name, dimensions: [("stream", stream), (label, value)], factory: factory)
                    last.labelled[key] = counter
                    counter.increment(by: count - before[value, default: 0])
                }
            }
            last.stats = stats
            last.tally = reading.tally
            last.credentialRefreshes = reading.credentialRefreshes
            last.credentialFailures = reading.credentialFailures
        }
        inFlight.record(reading.stats.inFlight)
        bufferedRecords.record(reading.stats.buffered)
        bufferedBytes.record(reading.bufferedBytes)
        oldestAge.record(reading.oldestAge.map(\.inSeconds) ?? 0)
        if let perSecond = reading.recordsPerSecond { rateLimit.record(perSecond) }
        if let shards = reading.openShards { openShards.record(shards) }
        concurrency.record(reading.concurrencyLimit)
    }
}
