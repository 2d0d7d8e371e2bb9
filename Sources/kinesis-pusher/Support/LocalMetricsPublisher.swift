import CoreMetrics
import KinesisLocal
import KinesisPusherPrometheus
import ServiceLifecycle

/// KinesisLocal's own counters as Prometheus metrics (`kinesis-pusher local --metrics-port`), read from
/// `stats()` once a second.
struct LocalMetricsPublisher: Service {
    static let help: [String: String] = [
        "kinesis_local_requests_total": "Kinesis requests KinesisLocal answered (all operations, errors included).",
        "kinesis_local_records_accepted_total": "Records KinesisLocal stored, by stream and shard.",
        "kinesis_local_records_throttled_total": "Records KinesisLocal refused with ProvisionedThroughputExceededException, by stream and shard.",
        "kinesis_local_stored_records": "Records held now (after the retention cap), by stream.",
        "kinesis_local_open_shards": "Open shards, by stream.",
    ]

    let server: KinesisLocal
    let metrics: PrometheusMetrics

    func run() async throws {
        let factory = metrics.factory
        let requests = Counter(label: "kinesis_local_requests_total", dimensions: [], factory: factory)
        var counters: [String: Counter] = [:]
        var gauges: [String: Gauge] = [:]
        var last: [String: Int] = [:]
        var lastRequests = 0
        func count(_ name: String, _ dimensions: [(String, String)], _ value: Int) {
            let key = name + dimensions.map { "|\($0.1)" }.joined()
            let counter = counters[key] ?? Counter(label: name, dimensions: dimensions, factory: factory)
            counters[key] = counter
            counter.increment(by: Self.increment(from: last[key, default: 0], to: value))
            last[key] = value
        }
        func gauge(_ name: String, _ dimensions: [(String, String)], _ value: Int) {
            let key = name + dimensions.map { "|\($0.1)" }.joined()
            let gauge = gauges[key] ?? Gauge(label: name, dimensions: dimensions, factory: factory)
            gauges[key] = gauge
            gauge.record(value)
        }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let stats = server.stats()
            requests.increment(by: Self.increment(from: lastRequests, to: stats.requests))
            lastRequests = stats.requests
            for (name, stream) in stats.streams {
                gauge("kinesis_local_stored_records", [("stream", name)], stream.storedRecords)
                gauge("kinesis_local_open_shards", [("stream", name)], stream.openShards)
                for shard in stream.shards {
                    let dimensions = [("stream", name), ("shard", shard.shardId)]
                    count("kinesis_local_records_accepted_total", dimensions, shard.accepted)
                    count("kinesis_local_records_throttled_total", dimensions, shard.throttled)
                }
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// What a counter adds when the total it mirrors went from `last` to `value`. A total that went backwards
    /// (a stream deleted and created again counts from zero) is a fresh start, counted from zero: a counter never
    /// goes down, and swift-prometheus traps on a negative increment.
    static func increment(from last: Int, to value: Int) -> Int {
        value >= last ? value - last : max(0, value)
    }
}
