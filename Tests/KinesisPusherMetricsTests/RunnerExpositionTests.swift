import AsyncHTTPClient
import KinesisLocal
import KinesisPusher
import KinesisPusherPrometheus
import Testing
import TestSupport

/// The runner's metrics in the Prometheus exposition while it pushes against a KinesisLocal with faults.
@Suite("Runner metrics in the Prometheus exposition", .timeLimit(.minutes(1)))
struct RunnerExpositionTests {
    static let records = "kinesis_pusher_records_total"
    static let pushDelay = "kinesis_pusher_push_delay_seconds"

    @Test("under faults, scraped over HTTP while pushing: push delay and records by status; afterwards failed − recovered = stats.failed = 0")
    func recoveredRun() async throws {
        let faults = KinesisLocal.Faults(recordInternalFailureRate: 0.1, recordThrottleRate: 0.2, requestInternalErrorRate: 0.05, seed: 7)
        try await withServer(local(shards: 2, faults: faults)) { server in
            let metrics = PrometheusMetrics()
            let endpoint = MetricsEndpoint(metrics: metrics, access: .basic(user: "prom", password: "pw"))
            let metricsServer = try await MetricsServer.start(endpoint: endpoint, port: 0)
            let runner = try makeRunner(server, factory: metrics.factory) { unpaced(&$0); $0.concurrency.isAsync = true }
            let count = 2000
            let scrapes = try await withHTTPClient { client in
                let (scrapes, run) = try await withRunning(runner) { () -> (mid: Exposition, all: [Exposition]) in
                    var scrapes: [Exposition] = []
                    var mid: Exposition?
                    for i in 0..<count {
                        if i == count / 2 {
                            // Half sent: wait for a scrape showing deliveries; the push cannot be over yet.
                            try await until {
                                let answer = try await request(client, port: metricsServer.port, authorization: basic("prom", "pw"))
                                #expect(answer.status == 200)
                                let exposition = Exposition(answer.body)
                                scrapes.append(exposition)
                                mid = exposition
                                return (exposition.value(Self.records, ["status": "success"]) ?? 0) > 0
                                    && (exposition.value(Self.pushDelay + "_count") ?? 0) > 0
                            }
                        }
                        try await runner.send(Record(text: "record-\(i)", partitionKey: "key-\(i)"))
                        if i % 250 == 249 {
                            let answer = try await request(client, port: metricsServer.port, authorization: basic("prom", "pw"))
                            #expect(answer.status == 200)
                            scrapes.append(Exposition(answer.body))
                        }
                    }
                    try await until(timeout: .seconds(15)) { runner.stats.delivered + runner.stats.failed == count }
                    return (try #require(mid), scrapes)
                }
                try run.get()
                return scrapes
            }
            await metricsServer.stop()

            // During the push (half the records not even sent): the histogram and all three statuses are exposed.
            let (during, all) = scrapes
            let midSuccess = during.count(Self.records, ["stream": "s", "status": "success"])
            print("mid-push scrape: success \(midSuccess), failed \(during.count(Self.records, ["status": "failed"])), recovered \(during.count(Self.records, ["status": "recovered"])), push delay count \(during.count(Self.pushDelay + "_count"))")
            #expect(midSuccess > 0 && midSuccess <= count / 2)
            #expect(during.families[Self.pushDelay]?.type == "histogram")
            #expect(during.families[Self.records]?.type == "counter")
            for status in ["success", "failed", "recovered"] {
                #expect(during.value(Self.records, ["stream": "s", "status": status]) != nil, "status \(status) missing mid-run")
            }
            #expect(during.count(Self.pushDelay + "_count") > 0)
            #expect(during.value(Self.pushDelay + "_bucket", ["le": "+Inf"]) == during.value(Self.pushDelay + "_count"))
            checkWellFormed(during)
            // At every scrape: counters only grow, recovered ⊂ success, recovered ⊂ failed.
            for status in ["success", "failed", "recovered"] {
                let values = all.map { $0.value(Self.records, ["status": status]) ?? 0 }
                #expect(values == values.sorted(), "\(status) went down between scrapes: \(values)")
            }
            for scrape in all {
                let recovered = scrape.count(Self.records, ["status": "recovered"])
                #expect(recovered <= scrape.count(Self.records, ["status": "success"]))
                #expect(recovered <= scrape.count(Self.records, ["status": "failed"]))
            }

            // After the run.
            let stats = runner.stats
            let final = Exposition(metrics.exposition())
            let success = final.count(Self.records, ["stream": "s", "status": "success"])
            let failed = final.count(Self.records, ["stream": "s", "status": "failed"])
            let recovered = final.count(Self.records, ["stream": "s", "status": "recovered"])
            let pushes = final.count(Self.pushDelay + "_count", ["stream": "s"])
            print("recovered run: success \(success), failed \(failed), recovered \(recovered), push delay count \(pushes); stats \(stats); server accepted \(server.stats().streams["s"]?.accepted ?? -1); \(all.count) scrapes")
            #expect(stats.failed == 0)
            #expect(failed - recovered == stats.failed)
            #expect(success == count)
            #expect(success == stats.delivered)
            #expect(success == server.stats().streams["s"]?.accepted)  // every delivered record counted once
            #expect(recovered == stats.recovered)
            #expect(recovered > 0)
            #expect(recovered <= success)
            #expect(pushes == stats.requests)
            #expect(final.count("kinesis_pusher_records_accepted_total") == stats.sent)
            #expect(final.count("kinesis_pusher_retries_total") == stats.retries)
            #expect(final.count("kinesis_pusher_put_requests_total") == stats.requests)
            #expect(final.count("kinesis_pusher_delivered_bytes_total") == stats.deliveredBytes)
            // Throttled attempts by error code, and the other failures by theirs.
            let throttled = try #require(final.families["kinesis_pusher_throttled_records_total"])
            #expect(throttled.samples.contains { $0.labels["error_code"] == "ProvisionedThroughputExceededException" })
            #expect(Int(throttled.samples.reduce(0) { $0 + $1.value }) == stats.throttled)
            let failedAttempts = try #require(final.families["kinesis_pusher_failed_attempts_total"])
            #expect(failedAttempts.samples.contains { $0.labels["error_code"] == "InternalFailure" })
            // Whole-request failures are drawn at random (5 % of ~50 calls), so a run may see none; when it does,
            // each is labelled with its code.
            if let requestErrors = final.families["kinesis_pusher_put_request_errors_total"] {
                #expect(requestErrors.samples.allSatisfy { $0.labels["error_code"] == "InternalFailure" })
            }
            // Per-shard counters only on request.
            #expect(final.families["kinesis_pusher_shard_delivered_records_total"] == nil)
            #expect(final.families["kinesis_pusher_shard_throttled_records_total"] == nil)
            // Idle at the end.
            #expect(final.value("kinesis_pusher_in_flight_requests") == 0)
            #expect(final.value("kinesis_pusher_buffered_records") == 0)
            #expect(final.value("kinesis_pusher_buffered_bytes") == 0)
            checkWellFormed(final)
            try expectPromtoolAccepts(metrics.exposition())
        }
    }

    @Test("records that finally fail: failed − recovered = stats.failed > 0", arguments: [1, 2])
    func lossyRun(maxAttempts: Int) async throws {
        try await withServer(local(shards: 2, faults: .init(recordInternalFailureRate: 0.5, seed: 3))) { server in
            let metrics = PrometheusMetrics()
            let failures = Counted()
            let runner = try makeRunner(server, factory: metrics.factory) {
                unpaced(&$0)
                $0.retry.maxAttempts = maxAttempts
                $0.failureHandler = { _ in failures.add() }
            }
            let count = 800
            let (_, run) = try await withRunning(runner) {
                for i in 0..<count { try await runner.send(Record(text: "record-\(i)", partitionKey: "key-\(i)")) }
                try await until { runner.stats.delivered + runner.stats.failed == count }
            }
            try run.get()
            let stats = runner.stats
            let final = Exposition(metrics.exposition())
            let success = final.count(Self.records, ["status": "success"])
            let failed = final.count(Self.records, ["status": "failed"])
            let recovered = final.count(Self.records, ["status": "recovered"])
            print("lossy run, maxAttempts \(maxAttempts): success \(success), failed \(failed), recovered \(recovered); stats failed \(stats.failed), delivered \(stats.delivered)")
            #expect(stats.failed > 0)
            #expect(failed - recovered == stats.failed)
            #expect(failures.value == stats.failed)
            #expect(success == stats.delivered)
            #expect(success + stats.failed == count)
            #expect(success == server.stats().streams["s"]?.accepted)
            #expect(recovered == stats.recovered)
            #expect(recovered <= success)
            if maxAttempts == 1 { #expect(recovered == 0) } else { #expect(recovered > 0) }
            // Every record either went through first time, was recovered, or failed for good.
            #expect(failed == stats.failed + stats.recovered)
            checkWellFormed(final)
            try expectPromtoolAccepts(metrics.exposition())
        }
    }

    @Test("gauges (in flight, buffered, rate limit, open shards) and throttle error codes under throttling faults")
    func gaugesAndThrottles() async throws {
        let faults = KinesisLocal.Faults(recordThrottleRate: 0.2, requestThrottleRate: 0.05, seed: 9)
        try await withServer(local(shards: 3, faults: faults)) { server in
            let metrics = PrometheusMetrics()
            let runner = try makeRunner(server, factory: metrics.factory) {
                unpaced(&$0)
                $0.pacing.rateLimitPercent = 100
                $0.concurrency.isAsync = true
            }
            let count = 600
            let (mid, run) = try await withRunning(runner) { () -> Exposition in
                for i in 0..<count { try await runner.send(Record(text: "record-\(i)", partitionKey: "key-\(i)")) }
                // The gauges as published while running (a few times a second).
                try await until { Exposition(metrics.exposition()).value("kinesis_pusher_open_shards") == 3 }
                let mid = Exposition(metrics.exposition())
                try await until(timeout: .seconds(15)) { runner.stats.delivered + runner.stats.failed == count }
                return mid
            }
            try run.get()
            let final = Exposition(metrics.exposition())
            for gauge in [
                "kinesis_pusher_in_flight_requests", "kinesis_pusher_buffered_records", "kinesis_pusher_buffered_bytes",
                "kinesis_pusher_oldest_buffered_record_age_seconds", "kinesis_pusher_rate_limit_records_per_second",
                "kinesis_pusher_open_shards", "kinesis_pusher_concurrency_limit",
            ] {
                #expect(mid.families[gauge]?.type == "gauge", "\(gauge) not a gauge mid-run")
                #expect(final.families[gauge]?.samples.first?.labels["stream"] == "s", "\(gauge) missing at the end")
            }
            let rate = try #require(final.value("kinesis_pusher_rate_limit_records_per_second"))
            print("gauges: rate limit \(rate) records/s, open shards \(final.value("kinesis_pusher_open_shards") ?? -1), concurrency \(final.value("kinesis_pusher_concurrency_limit") ?? -1), throttled \(runner.stats.throttled)")
            #expect(rate > 0 && rate <= 3000)
            #expect(final.value("kinesis_pusher_open_shards") == 3)
            #expect((final.value("kinesis_pusher_concurrency_limit") ?? 0) >= 1)
            #expect(final.value("kinesis_pusher_in_flight_requests") == 0)
            #expect(final.value("kinesis_pusher_buffered_records") == 0)
            let throttled = try #require(final.families["kinesis_pusher_throttled_records_total"])
            #expect(throttled.samples.allSatisfy { $0.labelNames.sorted() == ["error_code", "stream"] })
            #expect(throttled.samples.map { $0.labels["error_code"] } == ["ProvisionedThroughputExceededException"])
            #expect(final.count("kinesis_pusher_throttled_records_total") == runner.stats.throttled)
            #expect(runner.stats.throttled > 0)
            #expect(final.count(Self.records, ["status": "success"]) == count)
            checkWellFormed(final)
            try expectPromtoolAccepts(metrics.exposition())
        }
    }

    @Test("per-shard metrics on request: delivered and throttled records by shard, adding up to the totals")
    func perShard() async throws {
        try await withServer(local(shards: 3, faults: .init(recordThrottleRate: 0.2, seed: 4))) { server in
            let metrics = PrometheusMetrics()
            let runner = try makeRunner(server, factory: metrics.factory, perShard: true, unpaced)
            let count = 600
            let (_, run) = try await withRunning(runner) {
                // Throttles count by the shard predicted from the shard map: start once the map is known.
                try await until { Exposition(metrics.exposition()).value("kinesis_pusher_open_shards") == 3 }
                for i in 0..<count { try await runner.send(Record(text: "\(i)", partitionKey: "k\(i)")) }
                try await until { runner.stats.delivered + runner.stats.failed == count }
            }
            try run.get()
            let final = Exposition(metrics.exposition())
            let delivered = try #require(final.families["kinesis_pusher_shard_delivered_records_total"])
            let shards = Set(delivered.samples.compactMap { $0.labels["shard"] })
            print("per shard: delivered \(delivered.samples.map { "\($0.labels["shard"] ?? "?")=\(Int($0.value))" }.sorted())")
            #expect(shards.count == 3)
            #expect(shards.allSatisfy { $0.hasPrefix("shardId-") })
            #expect(Int(delivered.samples.reduce(0) { $0 + $1.value }) == count)
            let throttled = try #require(final.families["kinesis_pusher_shard_throttled_records_total"])
            #expect(Int(throttled.samples.reduce(0) { $0 + $1.value }) == runner.stats.throttled)
            #expect(runner.stats.throttled > 0)
            checkWellFormed(final)
            try expectPromtoolAccepts(metrics.exposition())
        }
    }

    @Test("promtool check metrics accepts the exposition of a fresh registry and of a finished run", .enabled(if: promtool != nil || TestEnvironment.isCI))
    func promtoolAccepts() async throws {
        let promtool = try #require(promtool, "PROMTOOL must name promtool in CI")
        let empty = PrometheusMetrics()
        let check = try promtoolCheck(promtool, empty.exposition())
        #expect(check.status == 0, "\(check.output)")
        try await withServer(local(shards: 1)) { server in
            let metrics = PrometheusMetrics()
            let runner = try makeRunner(server, factory: metrics.factory, unpaced)
            let (_, run) = try await withRunning(runner) {
                for i in 0..<50 { try await runner.send(Record(text: "\(i)", partitionKey: "k\(i)")) }
            }
            try run.get()
            let check = try promtoolCheck(promtool, metrics.exposition())
            #expect(check.status == 0, "\(check.output)")
            // And that the check can fail: a counter without _total and a sample without a family.
            let broken = try promtoolCheck(promtool, Array("# TYPE bad_counter counter\nbad_counter 1\nbad{ 1\n".utf8))
            #expect(broken.status != 0)
        }
    }
}

/// Every family has HELP and TYPE lines, samples belong to a family, and each family uses one set of label names
/// (a histogram's `le` aside).
func checkWellFormed(_ exposition: Exposition, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(exposition.problems.isEmpty, "\(exposition.problems)", sourceLocation: sourceLocation)
    #expect(!exposition.families.isEmpty, sourceLocation: sourceLocation)
    for family in exposition.families.values {
        #expect(family.help.map { !$0.isEmpty } == true, "\(family.name) has no HELP", sourceLocation: sourceLocation)
        #expect(family.type != nil, "\(family.name) has no TYPE", sourceLocation: sourceLocation)
        #expect(family.name.hasPrefix("kinesis_pusher_"), "\(family.name)", sourceLocation: sourceLocation)
        if family.type == "counter" {
            #expect(family.name.hasSuffix("_total"), "\(family.name)", sourceLocation: sourceLocation)
        }
        let labelSets = Set(family.samples.map { $0.labelNames.filter { $0 != "le" }.sorted() })
        #expect(labelSets.count <= 1, "\(family.name) mixes label names: \(labelSets)", sourceLocation: sourceLocation)
        #expect(family.samples.allSatisfy { $0.labels["stream"] == "s" }, "\(family.name)", sourceLocation: sourceLocation)
        if family.type == "histogram" {
            #expect(family.samples.contains { $0.name == family.name + "_bucket" && $0.labels["le"] == "+Inf" }, sourceLocation: sourceLocation)
            #expect(family.samples.contains { $0.name == family.name + "_sum" }, sourceLocation: sourceLocation)
            #expect(family.samples.contains { $0.name == family.name + "_count" }, sourceLocation: sourceLocation)
        }
    }
}

/// A counter closures can bump.
final class Counted: Sendable {
    private let count = Locked(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.value }
}
