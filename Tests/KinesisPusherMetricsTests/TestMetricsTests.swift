import CoreMetrics
import KinesisLocal
import KinesisPusher
import Metrics
import MetricsTestKit
import Testing
import TestSupport

/// The runner reports through an injected factory (no global bootstrap), and only with `configureWithMetrics`.
@Suite("Runner metrics through an injected MetricsTestKit factory", .timeLimit(.minutes(1)))
struct TestMetricsTests {
    @Test("configureWithMetrics reports to the injected factory, nothing global is bootstrapped")
    func injectedFactory() async throws {
        try await withServer(local(shards: 2, faults: .init(recordInternalFailureRate: 0.2, seed: 5))) { server in
            let metrics = TestMetrics()
            let runner = try makeRunner(server, factory: metrics, unpaced)
            let count = 300
            let (_, run) = try await withRunning(runner) {
                for i in 0..<count { try await runner.send(Record(text: "\(i)", partitionKey: "k\(i)")) }
                try await until { runner.stats.delivered + runner.stats.failed == count }
            }
            try run.get()
            let stats = runner.stats
            let records = "kinesis_pusher_records_total"
            let success = metrics.counterTotal(label: records, dimensions: [("stream", "s"), ("status", "success")])
            let recovered = metrics.counterTotal(label: records, dimensions: [("stream", "s"), ("status", "recovered")])
            let failed = metrics.counterTotal(label: records, dimensions: [("stream", "s"), ("status", "failed")])
            let pushDelay = try metrics.expectTimer("kinesis_pusher_push_delay_seconds", [("stream", "s")])
            let latency = try metrics.expectTimer("kinesis_pusher_record_latency_seconds", [("stream", "s")])
            print("TestMetrics: success \(success), recovered \(recovered), failed \(failed), push delays \(pushDelay.values.count), latencies \(latency.values.count); stats \(stats)")
            #expect(success == count)
            #expect(Int(success) == stats.delivered)
            #expect(Int(recovered) == stats.recovered)
            #expect(recovered > 0)
            #expect(failed - recovered == 0)
            #expect(pushDelay.values.count == stats.requests)
            #expect(pushDelay.values.allSatisfy { $0 > 0 })
            #expect(latency.values.count == count)
            #expect(try metrics.expectCounter("kinesis_pusher_records_accepted_total", [("stream", "s")]).totalValue == count)
            #expect(try metrics.expectGauge("kinesis_pusher_open_shards", [("stream", "s")]).lastValue == 2)
            #expect(try metrics.expectGauge("kinesis_pusher_in_flight_requests", [("stream", "s")]).lastValue == 0)
            #expect(!metrics.counters(label: "kinesis_pusher_failed_attempts_total", dimensions: [("stream", "s"), ("error_code", "InternalFailure")]).isEmpty)
            // Counters are published as deltas: never a negative increment.
            #expect(metrics.counters.allSatisfy { $0.values.allSatisfy { $0 >= 0 } })
            // Every metric is one the runner documents with help text.
            let labels = Set(metrics.counters.map(\.label) + metrics.timers.map(\.label) + metrics.recorders.map(\.label))
            #expect(labels.isSubset(of: Set(Runner.metricHelp.keys)), "\(labels.subtracting(Runner.metricHelp.keys))")
            #expect(MetricsSystem.factory is NOOPMetricsHandler)
        }
    }

    @Test("with aggregation, records_total counts user records and kinesis_records_total the aggregates carrying them")
    func aggregatedCounts() async throws {
        try await withServer(local(shards: 2)) { server in
            let metrics = TestMetrics()
            let runner = try makeRunner(server, factory: metrics) { configuration in
                unpaced(&configuration)
                configuration.buffer.size = 5000
                // Calls wait for 2500 records (half the buffer) rather than a 100 ms flush, however slow the machine.
                configuration.batching.flushInterval = .milliseconds(500)
                configuration.aggregation = .init(maxSize: 4096)
            }
            let count = 3000
            let (_, run) = try await withRunning(runner) {
                for i in 0..<count { try await runner.send(Record(text: "record \(i)", partitionKey: "k\(i % 50)")) }
                try await until { runner.stats.delivered + runner.stats.failed == count }
            }
            try run.get()
            let stats = runner.stats
            let success = metrics.counterTotal(label: "kinesis_pusher_records_total", dimensions: [("stream", "s"), ("status", "success")])
            let kinesisRecords = try metrics.expectCounter("kinesis_pusher_kinesis_records_total", [("stream", "s")]).totalValue
            let reaggregated = metrics.counterTotal(label: "kinesis_pusher_reaggregated_records_total", dimensions: [("stream", "s")])
            print("aggregated metrics: user records \(success), Kinesis records \(kinesisRecords), reaggregated \(reaggregated); stats \(stats)")
            #expect(success == count)
            #expect(stats.aggregated > 0)
            #expect(kinesisRecords == stats.deliveredKinesisRecords)
            // 4 KiB aggregates of ~20-byte records: far fewer Kinesis records than user records, and more than one.
            #expect(kinesisRecords > 1 && kinesisRecords * 10 < count)
            #expect(Int(reaggregated) == stats.reaggregated)
        }
    }

    @Test("plain configure reports nothing, even with a metrics factory set")
    func plainConfigure() async throws {
        try await withServer(local(shards: 2)) { server in
            let metrics = TestMetrics()
            var configuration = RunnerConfiguration(buffer: .init(size: 100), concurrency: .init(maxConcurrentPuts: 2))
            configuration.metrics.factory = metrics
            let runner = try makeRunner(server, factory: nil) { $0 = configuration }
            let (_, run) = try await withRunning(runner) {
                for i in 0..<100 { try await runner.send(Record(text: "\(i)", partitionKey: "k\(i)")) }
                try await until { runner.stats.delivered == 100 }
            }
            try run.get()
            #expect(metrics.counters.isEmpty)
            #expect(metrics.timers.isEmpty)
            #expect(metrics.recorders.isEmpty)
            #expect(metrics.meters.isEmpty)
        }
    }
}
