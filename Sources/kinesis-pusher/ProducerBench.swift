import Backoff
import AWSCredentials
import AWSSigning
import ArgumentParser
import Foundation
import KinesisLocal
import KinesisPusher
import KinesisPusherPrometheus
import Metrics

/// End-to-end producer benchmark: the Runner pushes generated records to a KinesisLocal run in this process (limits
/// off) or to `--endpoint`, and reports throughput, the producer's own CPU per record, peak memory and push delay.
///
/// The producer, not the sink, is what is measured: with the in-process KinesisLocal the CPU of its event loop
/// threads (`/proc/self/task/TID/stat`) is subtracted from the process's and reported as the sink's share; with
/// `--endpoint` the process holds no sink, and the sink's CPU is read from `/proc/PID/stat` when `--sink-pid` names
/// the server (unknown otherwise).
struct ProducerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "producer",
        abstract: "End-to-end: the Runner (no rate limit) pushing to an in-process KinesisLocal or --endpoint; records/s, MB/s, producer CPU per record, sink CPU share, peak memory, push delay."
    )

    @Option(help: "Endpoint of a running Kinesis (e.g. kinesis-pusher local --no-shard-limits); without it a KinesisLocal runs in this process, limits off.")
    var endpoint: String?

    @Option(help: "With --endpoint: the server's process id, to measure the sink's CPU from /proc/PID/stat.")
    var sinkPid: Int32?

    @Option(help: "Stream to push to (must exist at --endpoint; created in the in-process KinesisLocal).")
    var stream = "bench"

    @Option(help: "Shards of the in-process KinesisLocal's stream.")
    var shards = 4

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

    @Flag(help: "Do not sample push delay and record latency (the runner's metrics stay off unless --metrics).")
    var noLatency = false

    @Flag(help: "Print a JSON report.")
    var json = false

    func validate() throws {
        if sinkPid != nil, endpoint == nil {
            throw ValidationError("--sink-pid goes with --endpoint (the in-process sink is measured by its threads)")
        }
        guard records > 0, size > 0, shards > 0 else { throw ValidationError("--records, --size and --shards must be positive") }
    }

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
        /// The producer's own CPU: the process's, less the in-process sink's threads.
        var cpu_s: Double
        var cpu_us_per_record: Double
        var records_per_s: Double
        var requests: Int
        var kinesis_records: Int
        /// `in-process KinesisLocal` or `external`.
        var sink: String
        /// User data delivered per second, in MB (10^6 bytes).
        var mb_per_s: Double
        /// Records per CPU-second of the producer.
        var records_per_cpu_s: Double
        /// Everything this process spent, the in-process sink included.
        var process_cpu_s: Double
        /// Whether the sink's CPU was measured (in process, or `--sink-pid`).
        var sink_cpu_known: Bool
        var sink_cpu_s: Double?
        /// The sink's share of producer plus sink CPU.
        var sink_cpu_share: Double?
        /// The process's resident-set high-water mark (VmHWM), the in-process sink included.
        var peak_rss_mib: Double
        var latency_sampled: Bool
        var push_delay_samples: Int
        var push_delay_p50_ms: Double?
        var push_delay_p99_ms: Double?
        var record_latency_p50_ms: Double?
        var record_latency_p99_ms: Double?
    }

    /// What one push measured.
    private struct Measurement {
        var stats: RunnerStats
        var seconds: Double
        var processCPU: Double
        var sinkCPU: Double?
    }

    func run() async throws {
        let local: KinesisLocal?
        if endpoint == nil {
            // Retention is kept small: the records' bytes would otherwise count in this process's peak memory.
            local = try await KinesisLocal.start(
                .init(streams: [.init(name: stream, shardCount: shards)], shardLimits: .off, retention: .init(maxRecords: 20_000))
            )
        } else {
            local = nil
        }
        let sampler = noLatency ? nil : LatencySampler(base: metrics ? PrometheusMetrics().factory : NOOPMetricsHandler.instance)
        let measurement: Measurement
        do {
            measurement = try await push(to: endpoint ?? local?.endpoint ?? "", local: local, sampler: sampler)
        } catch {
            try? await local?.stop()
            throw error
        }
        try await local?.stop()
        let report = makeReport(measurement, sampler: sampler)
        if json {
            print(try jsonReport(report))
        } else {
            printText(report)
        }
        if measurement.stats.delivered != records { throw ExitCode.failure }
    }

    private func push(to endpoint: String, local: KinesisLocal?, sampler: LatencySampler?) async throws -> Measurement {
        let runner = Runner(bufferSize: bufferSize ?? (aggregate ? 50_000 : 10_000), maxConcurrentPuts: 10)
            .withRateLimit(percent: nil)
        if !sync { runner.withAsync() }
        if aggregate { runner.withAggregation() }
        if ordered { runner.withOrdering(.perPartitionKey) }
        runner.withCredentialProvider(StaticCredentialProvider(AWSCredentialIdentity(accessKeyID: "AKIDBENCH", secretAccessKey: "bench")))
        let target = AWSConfig(region: "us-east-1", profile: nil, streamName: stream, endpoint: endpoint)
        if let factory: any MetricsFactory = sampler ?? (metrics ? PrometheusMetrics().factory : nil) {
            runner.withMetricsFactory(factory)
            try runner.configureWithMetrics(target)
        } else {
            try runner.configure(target)
        }
        _ = try await runner.checkShards()
        let sinkThreads = try await local?.eventLoopThreadIDs() ?? []
        let sinkCPU = { () -> Double? in
            if let sinkPid { return ProcessUsage.processCPUSeconds(pid: sinkPid) }
            guard local != nil else { return nil }
            let each = sinkThreads.map(ProcessUsage.threadCPUSeconds)
            return each.contains(nil) || each.isEmpty ? nil : each.reduce(0) { $0 + ($1 ?? 0) }
        }
        let payload = [UInt8](repeating: 0x61, count: size)
        let keys = (0..<max(1, keys)).map { "partition-key-\($0)" }
        let sinkBefore = sinkCPU()
        let cpuBefore = ProcessUsage.cpuSeconds()
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await runner.run() }
            for index in 0..<records {
                try await runner.send(Record(data: payload, partitionKey: keys[index % keys.count]))
            }
            await runner.shutdown()
            try await group.waitForAll()
        }
        let seconds = (ContinuousClock.now - start).inSeconds
        let processCPU = ProcessUsage.cpuSeconds() - cpuBefore
        let sinkAfter = sinkCPU()
        return Measurement(
            stats: runner.stats,
            seconds: seconds,
            processCPU: processCPU,
            sinkCPU: sinkBefore.flatMap { before in sinkAfter.map { $0 - before } }
        )
    }

    private func makeReport(_ measurement: Measurement, sampler: LatencySampler?) -> Report {
        let stats = measurement.stats
        let seconds = measurement.seconds
        // In process the sink's threads are part of the process; outside, the process is the producer alone.
        let producerCPU = endpoint == nil ? measurement.processCPU - (measurement.sinkCPU ?? 0) : measurement.processCPU
        let sinkShare = measurement.sinkCPU.map { $0 / max(1e-9, $0 + producerCPU) }
        func rounded(_ value: Double, _ places: Double) -> Double { (value * places).rounded() / places }
        return Report(
            metrics: metrics,
            aggregate: aggregate,
            ordered: ordered,
            async: !sync,
            keys: max(1, keys),
            records: records,
            record_bytes: size,
            delivered: stats.delivered,
            elapsed_s: rounded(seconds, 1000),
            cpu_s: rounded(producerCPU, 1000),
            cpu_us_per_record: rounded(producerCPU / Double(records) * 1e6, 100),
            records_per_s: (Double(stats.delivered) / seconds).rounded(),
            requests: stats.requests,
            kinesis_records: stats.deliveredKinesisRecords,
            sink: endpoint == nil ? "in-process KinesisLocal" : "external",
            mb_per_s: rounded(Double(stats.delivered * size) / seconds / 1e6, 100),
            records_per_cpu_s: (Double(stats.delivered) / max(1e-9, producerCPU)).rounded(),
            process_cpu_s: rounded(measurement.processCPU, 1000),
            sink_cpu_known: measurement.sinkCPU != nil,
            sink_cpu_s: measurement.sinkCPU.map { rounded($0, 1000) },
            sink_cpu_share: sinkShare.map { rounded($0, 1000) },
            peak_rss_mib: rounded(Double(ProcessUsage.peakResidentBytes()) / 1_048_576, 10),
            latency_sampled: sampler != nil,
            push_delay_samples: sampler?.pushDelay.count ?? 0,
            push_delay_p50_ms: sampler?.pushDelay.percentileMilliseconds(0.5).map { rounded($0, 1000) },
            push_delay_p99_ms: sampler?.pushDelay.percentileMilliseconds(0.99).map { rounded($0, 1000) },
            record_latency_p50_ms: sampler?.recordLatency.percentileMilliseconds(0.5).map { rounded($0, 1000) },
            record_latency_p99_ms: sampler?.recordLatency.percentileMilliseconds(0.99).map { rounded($0, 1000) }
        )
    }

    private func printText(_ report: Report) {
        let mode = [sync ? "sync" : "async", aggregate ? "aggregated" : nil, ordered ? "ordered" : nil, metrics ? "metrics" : nil]
        print("Runner (\(mode.compactMap { $0 }.joined(separator: ", ")), \(report.keys) keys) → \(report.sink): \(report.delivered)/\(records) records of \(size) bytes in \(report.elapsed_s) s (\(Int(report.records_per_s)) records/s, \(report.mb_per_s) MB/s); \(report.requests) requests, \(report.kinesis_records) Kinesis records")
        let sink = report.sink_cpu_s.map { "sink \($0) s (\(Int(((report.sink_cpu_share ?? 0) * 100).rounded())) % of producer + sink)" } ?? "sink CPU unknown (give --sink-pid)"
        print("  producer CPU \(report.cpu_s) s = \(report.cpu_us_per_record) µs/record (\(Int(report.records_per_cpu_s)) records per CPU-second); process CPU \(report.process_cpu_s) s; \(sink)")
        let latency = { (p50: Double?, p99: Double?) in p50.map { "p50 \($0) ms, p99 \(p99 ?? 0) ms" } ?? "not sampled" }
        print("  peak RSS \(report.peak_rss_mib) MiB; push delay \(latency(report.push_delay_p50_ms, report.push_delay_p99_ms)) over \(report.push_delay_samples) calls; record latency \(latency(report.record_latency_p50_ms, report.record_latency_p99_ms))")
    }
}
