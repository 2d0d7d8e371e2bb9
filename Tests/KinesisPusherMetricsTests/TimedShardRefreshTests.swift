import KinesisLocal
import KinesisPusher
import Metrics
import MetricsTestKit
import Testing
import TestSupport

/// The timed shard-map refresh (`withIntervals(shardRefresh:)`): the runner lists the shards again every interval,
/// so a reshard done behind its back is picked up with no record ever landing on an unexpected shard (the other
/// trigger of a refresh).
@Suite("Timed shard-map refresh", .timeLimit(.minutes(1)))
struct TimedShardRefreshTests {
    static func gauge(_ metrics: TestMetrics, _ label: String) throws -> Double? {
        try metrics.expectGauge(label, [("stream", "s")]).lastValue
    }

    @Test("an idle runner lists the shards every interval and follows reshards; its budget and records move to the new shards")
    func followsReshardsWhileIdle() async throws {
        try await withServer(local(shards: 2)) { server in
            try await withServer(local(shards: 2)) { control in
                let metrics = TestMetrics()
                let runner = try makeRunner(server, factory: metrics) {
                    $0.pacing.rateLimitPercent = 100
                    $0.shardRefreshInterval = .milliseconds(200)
                }
                // The same runner with the default interval: one listing at start, none after.
                let slow = try makeRunner(control, factory: TestMetrics()) { $0.pacing.rateLimitPercent = 100 }
                let (_, slowRun) = try await withRunning(slow) {
                    let (_, run) = try await withRunning(runner) {
                        try await until { try Self.gauge(metrics, "kinesis_pusher_open_shards") == 2 }
                        try await until { try Self.gauge(metrics, "kinesis_pusher_rate_limit_records_per_second") == 2000 }
                        // Nothing is sent, so every request the servers see is a ListShards of the map refresh.
                        try await until { server.stats().requests >= 5 }
                        try await until { control.stats().requests >= 1 }
                        #expect(control.stats().requests == 1, "the default interval listed the shards again")
                        #expect(runner.stats.requests == 0)

                        // Resharded behind the runner's back, while it sends nothing: only the timer can notice.
                        try server.reshard(stream: "s", shardCount: 3)
                        try await until { try Self.gauge(metrics, "kinesis_pusher_open_shards") == 3 }
                        // The rate budget is per shard of the new map.
                        try await until { try Self.gauge(metrics, "kinesis_pusher_rate_limit_records_per_second") == 3000 }
                        #expect(runner.stats.requests == 0)

                        try server.reshard(stream: "s", shardCount: 5)
                        try await until { try Self.gauge(metrics, "kinesis_pusher_open_shards") == 5 }
                        try await until { try Self.gauge(metrics, "kinesis_pusher_rate_limit_records_per_second") == 5000 }

                        let open = Set(try #require(server.stats().streams["s"]).shards.filter(\.open).map(\.shardId))
                        #expect(open.count == 5)
                        let results = try await withThrowingTaskGroup(of: PutResult.self) { group in
                            for i in 0..<200 { group.addTask { try await runner.put(Record(text: "\(i)", partitionKey: "after-\(i)")) } }
                            return try await group.reduce(into: []) { $0.append($1) }
                        }
                        #expect(results.count == 200)
                        #expect(results.allSatisfy { open.contains($0.shardID) })
                        #expect(Set(results.map(\.shardID)) == open)
                    }
                    try run.get()
                }
                try slowRun.get()
                #expect(runner.stats.delivered == 200)
                #expect(runner.stats.failed == 0)
            }
        }
    }
}
