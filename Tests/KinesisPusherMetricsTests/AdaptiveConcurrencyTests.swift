import KinesisLocal
import KinesisPusher
import Metrics
import MetricsTestKit
import Testing
import TestSupport

/// The adaptive in-flight limit of async mode (AIMD): each PutRecords call that fails as a whole (HTTP 500, a
/// dropped connection) halves it, down to one; each successful call grows it by about one per round, back up to
/// `maxConcurrentPuts`. Seen from outside through the `kinesis_pusher_concurrency_limit` gauge, and through
/// `stats.inFlight`, which never exceeds the limit.
@Suite("Adaptive in-flight limit", .timeLimit(.minutes(1)))
struct AdaptiveConcurrencyTests {
    /// Reads `runner.stats` in a loop: the most calls seen in flight, overall and while no call of the current
    /// phase has succeeded yet (`delivered` still at the phase's start).
    final class InFlightSampler: Sendable {
        struct Reading: Sendable {
            var maxInFlight = 0
            var baseDelivered = 0
            var maxBeforeFirstSuccess = 0
            var samplesBeforeFirstSuccess = 0
        }
        let reading = Locked(Reading())

        func startPhase(delivered: Int) {
            reading.withLock { $0 = Reading(baseDelivered: delivered) }
        }

        func run(_ runner: Runner) async {
            while !Task.isCancelled {
                // One snapshot, under the runner's lock: delivered and in flight belong together.
                let stats = runner.stats
                reading.withLock { reading in
                    reading.maxInFlight = max(reading.maxInFlight, stats.inFlight)
                    if stats.delivered == reading.baseDelivered {
                        reading.maxBeforeFirstSuccess = max(reading.maxBeforeFirstSuccess, stats.inFlight)
                        reading.samplesBeforeFirstSuccess += 1
                    }
                }
                try? await Task.sleep(for: .milliseconds(1))
            }
        }
    }

    @Test("request failures halve the limit down to 1; successes grow it back to maxConcurrentPuts")
    func halvesAndGrowsBack() async throws {
        // Every put waits 100 ms at the server, so calls overlap and the limit is what caps them.
        try await withServer(local(shards: 4, faults: .init(addedLatencyMilliseconds: 100))) { server in
            let metrics = TestMetrics()
            let runner = try makeRunner(server, factory: metrics) {
                $0.concurrency.isAsync = true
                $0.pacing.rateLimitPercent = nil
                $0.concurrency.maxConcurrentPuts = 8
                $0.batching.maxRecordsPerRequest = 10
                // One attempt per record: each failing put below is exactly one failed call.
                $0.retry.maxAttempts = 1
            }
            func limit() throws -> Double? {
                try metrics.expectGauge("kinesis_pusher_concurrency_limit", [("stream", "s")]).lastValue
            }
            let sampler = InFlightSampler()
            let (_, run) = try await withRunning(runner) {
                let sampling = Task { await sampler.run(runner) }
                defer { sampling.cancel() }

                // At full strength: 40 calls of 10 records, up to 8 at once.
                for i in 0..<400 { try await runner.send(Record(text: "full-\(i)", partitionKey: "k\(i)")) }
                try await until { runner.stats.delivered == 400 }
                try await until { try limit() == 8 }
                let full = sampler.reading.value.maxInFlight
                #expect(full == 8, "the baseline never had 8 calls in flight (\(full)): nothing below could be seen")

                // Each failed call halves the limit: 8 → 4 (HTTP 500) → 2 (HTTP 500) → 1 (dropped connection) → 1.
                let failures: [(KinesisLocal.Faults, Double, String)] = [
                    (.init(requestInternalErrorRate: 1, addedLatencyMilliseconds: 100), 4, "InternalFailure"),
                    (.init(requestInternalErrorRate: 1, addedLatencyMilliseconds: 100), 2, "InternalFailure"),
                    (.init(dropConnectionRate: 1, addedLatencyMilliseconds: 100), 1, "dropped connection"),
                    (.init(requestInternalErrorRate: 1, addedLatencyMilliseconds: 100), 1, "InternalFailure"),
                ]
                for (step, (faults, expected, cause)) in failures.enumerated() {
                    server.setFaults(faults)
                    let error = await #expect(throws: RunnerError.self) {
                        _ = try await runner.put(Record(text: "failing-\(step)", partitionKey: "f\(step)"))
                    }
                    #expect(error?.code == .attemptsExhausted, "\(cause): \(String(describing: error))")
                    try await until { try limit() == expected }
                }
                #expect(runner.stats.failed == failures.count)

                // Faults off: until the first call succeeds only one is in flight; then the limit grows back to 8.
                server.setFaults(.init(addedLatencyMilliseconds: 100))
                sampler.startPhase(delivered: runner.stats.delivered)
                for i in 0..<600 { try await runner.send(Record(text: "again-\(i)", partitionKey: "k\(i)")) }
                try await until(timeout: .seconds(20)) { runner.stats.delivered == 1000 }
                try await until { try limit() == 8 }
                let reading = sampler.reading.value
                print("adaptive limit: in flight at most \(reading.maxBeforeFirstSuccess) before the first success (\(reading.samplesBeforeFirstSuccess) samples), at most \(reading.maxInFlight) after; gauge \(try limit() ?? -1)")
                #expect(reading.samplesBeforeFirstSuccess > 0)
                #expect(reading.maxBeforeFirstSuccess == 1)
                #expect(reading.maxInFlight == 8)
            }
            try run.get()
            #expect(runner.stats.delivered == 1000)
            #expect(runner.stats.failed == 4)
            let values = try metrics.expectGauge("kinesis_pusher_concurrency_limit", [("stream", "s")]).values
            // Never above maxConcurrentPuts, never below one.
            #expect(values.allSatisfy { $0 >= 1 && $0 <= 8 }, "\(values)")
        }
    }
}
