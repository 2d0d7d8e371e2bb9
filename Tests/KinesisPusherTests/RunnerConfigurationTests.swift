import KinesisPusher
import Testing

/// The configuration's groups: the defaults every user gets, and the builder methods of the seed's surface setting
/// the grouped fields.
@Suite("RunnerConfiguration")
struct RunnerConfigurationTests {
    @Test("the defaults: 1000 records, 500 records / 5 MiB a call after 100 ms, sync, 100 ms–5 s retries for 30 s, 100 % pacing")
    func defaults() {
        let configuration = RunnerConfiguration()
        #expect(configuration.buffer == .init(size: 1000, maxBytes: nil))
        #expect(configuration.batching == .init(maxRecordsPerRequest: 500, maxRequestBytes: 5 << 20, flushInterval: .milliseconds(100)))
        #expect(configuration.concurrency == .init(isAsync: false, maxConcurrentPuts: 10))
        #expect(
            configuration.retry
                == .init(maxAttempts: nil, recordTTL: .seconds(30), baseDelay: .milliseconds(100), maxDelay: .seconds(5), jitterSeed: nil)
        )
        #expect(configuration.pacing.rateLimitPercent == 100)
        #expect(configuration.metrics.factory == nil)
        #expect(!configuration.metrics.perShard)
        #expect(configuration.diagnostics == .init(isDebug: false, debugInterval: .seconds(5)))
        #expect(configuration.shardRefreshInterval == .seconds(30))
        #expect(configuration.shutdownTimeout == .seconds(25))
        #expect(configuration.failureHandler == nil)
        #expect(configuration.httpClient == nil)
        #expect(configuration.aggregation == nil)
        #expect(configuration.ordering == .none)
    }

    @Test("the seed's two numbers go to buffer.size and concurrency.maxConcurrentPuts, at least 1 each")
    func seedNumbers() {
        let runner = Runner(bufferSize: 20_000, maxConcurrentPuts: 4)
        #expect(runner.configuration.buffer.size == 20_000)
        #expect(runner.configuration.concurrency.maxConcurrentPuts == 4)
        let clamped = Runner(bufferSize: 0, maxConcurrentPuts: -3).configuration
        #expect(clamped.buffer.size == 1)
        #expect(clamped.concurrency.maxConcurrentPuts == 1)
    }

    @Test("the builder methods set the grouped fields (with their own lower bounds)")
    func builders() {
        let configuration = Runner()
            .withIntervals(shardRefresh: .seconds(7), flush: .milliseconds(20))
            .withAsync()
            .withDebug(interval: .seconds(2))
            .withRecordTTL(nil)
            .withMaxAttempts(0)
            .withMaxRequestBytes(10)
            .withRateLimit(percent: 0.5)
            .withMaxBufferedBytes(1 << 20)
            .configuration
        #expect(configuration.shardRefreshInterval == .seconds(7))
        #expect(configuration.batching.flushInterval == .milliseconds(20))
        #expect(configuration.concurrency.isAsync)
        #expect(configuration.diagnostics == .init(isDebug: true, debugInterval: .seconds(2)))
        #expect(configuration.retry.recordTTL == nil)
        #expect(configuration.retry.maxAttempts == 1)
        #expect(configuration.batching.maxRequestBytes == 1024)
        #expect(configuration.pacing.rateLimitPercent == 1)
        #expect(configuration.buffer.maxBytes == 1 << 20)
        #expect(Runner().withRateLimit(percent: nil).configuration.pacing.rateLimitPercent == nil)
    }
}
