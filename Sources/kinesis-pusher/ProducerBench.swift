import AWSCredentials
import AWSSigning
import ArgumentParser
import Foundation
import KinesisPusher
import KinesisPusherPrometheus

/// The Runner's own CPU cost per record: pushes generated records to an endpoint (a KinesisLocal in another
/// process, so the server's work is not counted) and reads this process's CPU time.
struct ProducerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "producer",
        abstract: "CPU time per record of the Runner (no rate limit) pushing to --endpoint."
    )

    @Option(help: "Endpoint of a running Kinesis (e.g. kinesis-pusher local --no-shard-limits).")
    var endpoint: String

    @Option(help: "Stream to push to (must exist).")
    var stream = "bench"

    @Option(help: "Records to push.")
    var records = 200_000

    @Option(help: "Bytes per record.")
    var size = 100

    @Option(help: "Distinct partition keys, used round-robin.")
    var keys = 1000

    @Flag(help: "Pack records into KPL aggregates.")
    var aggregate = false

    @Flag(help: "Keep each partition key's records in order.")
    var ordered = false

    @Flag(help: "One PutRecords call at a time instead of async.")
    var sync = false

    @Option(help: "Records buffered before send waits (default 10000; 50000 with --aggregate).")
    var bufferSize: Int?

    @Flag(help: "Turn the runner's metrics on (Prometheus registry), to measure what they cost.")
    var metrics = false

    @Flag(help: "Print a JSON report.")
    var json = false

    struct Report: Encodable {
        var metrics: Bool
        var aggregate: Bool
        var ordered: Bool
        var async: Bool
        var keys: Int
        var records: Int
        var record_bytes: Int
        var delivered: Int
        var elapsed_s: Double
        var cpu_s: Double
        var cpu_us_per_record: Double
        var records_per_s: Double
        var requests: Int
        var kinesis_records: Int
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
            + Double(usage.ru_stime.tv_usec) / 1e6
    }

    func run() async throws {
        let runner = Runner(bufferSize: bufferSize ?? (aggregate ? 50_000 : 10_000), maxConcurrentPuts: 10)
            .withRateLimit(percent: nil)
        if !sync { runner.withAsync() }
        if aggregate { runner.withAggregation() }
        if ordered { runner.withOrdering(.perPartitionKey) }
        runner.withCredentialProvider(StaticCredentialProvider(AWSCredentialIdentity(accessKeyID: "AKIDBENCH", secretAccessKey: "bench")))
        let target = AWSConfig(region: "us-east-1", profile: nil, streamName: stream, endpoint: endpoint)
        let registry = metrics ? PrometheusMetrics() : nil
        if let registry {
            runner.withMetricsFactory(registry.factory)
            try runner.configureWithMetrics(target)
        } else {
            try runner.configure(target)
        }
        _ = try await runner.checkShards()
        let payload = [UInt8](repeating: 0x61, count: size)
        let keys = (0..<max(1, keys)).map { "partition-key-\($0)" }
        let cpuBefore = Self.cpuSeconds()
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await runner.run() }
            for index in 0..<records {
                try await runner.send(Record(data: payload, partitionKey: keys[index % keys.count]))
            }
            await runner.shutdown()
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - start
        let cpu = Self.cpuSeconds() - cpuBefore
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let stats = runner.stats
        let report = Report(
            metrics: metrics,
            aggregate: aggregate,
            ordered: ordered,
            async: !sync,
            keys: keys.count,
            records: records,
            record_bytes: size,
            delivered: stats.delivered,
            elapsed_s: (seconds * 1000).rounded() / 1000,
            cpu_s: (cpu * 1000).rounded() / 1000,
            cpu_us_per_record: (cpu / Double(records) * 1e6 * 100).rounded() / 100,
            records_per_s: (Double(stats.delivered) / seconds).rounded(),
            requests: stats.requests,
            kinesis_records: stats.deliveredKinesisRecords
        )
        if json {
            print(try jsonReport(report))
        } else {
            let mode = [sync ? "sync" : "async", aggregate ? "aggregated" : nil, ordered ? "ordered" : nil, metrics ? "metrics" : nil]
            print("Runner (\(mode.compactMap { $0 }.joined(separator: ", ")), \(keys.count) keys): \(report.delivered)/\(records) records of \(size) bytes in \(report.elapsed_s) s (\(Int(report.records_per_s)) records/s), CPU \(report.cpu_s) s = \(report.cpu_us_per_record) µs/record; \(report.requests) requests, \(report.kinesis_records) Kinesis records")
        }
        if stats.delivered != records { throw ExitCode.failure }
    }
}
