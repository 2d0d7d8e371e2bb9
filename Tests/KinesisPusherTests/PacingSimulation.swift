import Backoff
import KinesisAPI
import NIOCore
import Testing
import TestSupport

@testable import KinesisLocal
@testable import KinesisPusher

/// Producers paced by their ``RunnerStateMachine`` against KinesisLocal's backend (its per-shard token buckets),
/// on simulated time: what a run would deliver and how much Kinesis would throttle, free of the machine's load.
/// Like the runner's loop, each producer acts on its state machine's next action and wakes when an answer arrives
/// or at the instant the machine asked to be woken (producers start out of phase with each other). Requests go
/// through the real PutRecords writer and answer reader and are answered `latency` later.
///
/// Faults, drawn from generators seeded with `faults.seed`: the per-record ones (throttles, `InternalFailure`)
/// come from the backend, as KinesisLocal answers them; the per-request ones (HTTP 500, a whole-request throttle,
/// `KMSThrottlingException`, a dropped connection) are answered here as the client would report them, without
/// the backend seeing the request.
struct PacingSimulation {
    struct Producer {
        var machine: RunnerStateMachine
        var inFlight: [(answeredAt: ContinuousClock.Instant, batch: RunnerStateMachine.Batch, answer: Result<PutRecordsResult, KinesisError>)] = []
        var wakeAt: ContinuousClock.Instant?
        var offered = 0
    }

    var producers: [Producer]
    var backend: BackendState
    let start = ContinuousClock.now
    private(set) var now: ContinuousClock.Instant
    let latency: Duration
    let bufferSize: Int
    let faults: KinesisLocal.Faults
    /// Draws the per-request faults.
    var requestFaults: SplitMix64
    private let configuration: RunnerConfiguration
    private let rateLimitPercent: Double?
    private let map: ShardMap
    /// Seeds the producers' retry jitter (producer `i`: `seed + i`). A simulated run is exact for its seeds, so the
    /// tests fix them (``PacingSimulationTests/seed``) instead of drawing one per process: how much the results
    /// move with the seed is measured across seeds, not left to chance.
    let seed: UInt64

    /// `producers` runners with `configure`'s settings on one stream "s" of `shards` shards, each knowing the
    /// shard map; the server's limits are on unless `limits` says otherwise, and `faults` are injected.
    init(
        producers count: Int = 1,
        shards: Int,
        limits: KinesisLocal.Configuration.ShardLimits = .init(),
        faults: KinesisLocal.Faults = .init(),
        latency: Duration = .milliseconds(20),
        rateLimitPercent: Double? = 100,
        seed: UInt64 = PacingSimulationTests.seed,
        _ configure: (inout RunnerConfiguration) -> Void = { _ in }
    ) throws {
        self.seed = seed
        var configuration = RunnerConfiguration(buffer: .init(size: 1000), concurrency: .init(maxConcurrentPuts: 4))
        configuration.concurrency.isAsync = true
        configure(&configuration)
        self.configuration = configuration
        self.rateLimitPercent = rateLimitPercent
        bufferSize = configuration.buffer.size
        now = start
        self.latency = latency
        self.faults = faults
        requestFaults = SplitMix64(seed: faults.seed &+ 1)
        backend = BackendState(configuration: .init(shardLimits: limits, faults: faults))
        try backend.create(.init(name: "s", shardCount: shards), now: 0)
        map = try Fixture.evenMap(shards)
        producers = []
        for index in 0..<count { addProducer(phase: .milliseconds(25) * index / count) }
    }

    /// Starts one more producer now (another producer joining the stream), its first wake-up `phase` from now.
    mutating func addProducer(phase: Duration? = nil) {
        let index = producers.count
        var machine = RunnerStateMachine(
            limits: .init(configuration),
            rateLimitPercent: rateLimitPercent,
            jitterSeed: seed &+ UInt64(index)
        )
        _ = machine.install(map, now: now)
        producers.append(Producer(machine: machine, wakeAt: now + (phase ?? .milliseconds(12))))
    }

    /// Runs every producer for `duration` of simulated time in 1 ms steps, each offered more records than the
    /// stream takes; then lets the calls in flight be answered.
    mutating func run(for duration: Duration) throws {
        let end = now + duration
        while now < end {
            for index in producers.indices {
                try step(index)
            }
            now += .milliseconds(1)
        }
        for index in producers.indices {
            for call in producers[index].inFlight {
                _ = producers[index].machine.complete(call.batch, with: call.answer, now: call.answeredAt)
            }
            producers[index].inFlight = []
        }
    }

    private mutating func step(_ index: Int) throws {
        var producer = producers[index]
        defer { producers[index] = producer }
        var woken = false
        while let call = producer.inFlight.first, call.answeredAt <= now {
            producer.inFlight.removeFirst()
            _ = producer.machine.complete(call.batch, with: call.answer, now: now)
            woken = true
        }
        if let wakeAt = producer.wakeAt, now >= wakeAt { woken = true }
        guard woken else { return }
        while producer.machine.bufferedCount < bufferSize {
            let key = "p\(index)-\(producer.offered)"
            guard producer.machine.offerTest(Record(text: key, partitionKey: key), now: now).isAccepted else { break }
            producer.offered += 1
        }
        actions: while true {
            switch producer.machine.nextAction(now: now).0 {
            case .send(let batch):
                let answer: Result<PutRecordsResult, KinesisError>
                if let fault = nextRequestFault() {
                    answer = .failure(fault)
                } else {
                    let body = Runner.requestBody(of: batch, stream: .name("s"))
                    let reply = try backend.putRecords(body, in: .init(region: backend.defaultRegion, now: (now - start).inSeconds))
                    answer = .success(try PutRecordsResult.decode(answer: reply, recordCount: batch.kinesisRecordCount))
                }
                producer.inFlight.append((now + latency, batch, answer))
            case .refreshShards:
                producer.machine.refreshFinished()  // the map does not change here
            case .wait(let until):
                producer.wakeAt = until
                break actions
            case .stop:
                break actions
            }
        }
    }

    /// A per-request fault for the next call, in KinesisLocal's order, as the client reports it.
    private mutating func nextRequestFault() -> KinesisError? {
        if requestFaults.chance(faults.dropConnectionRate) {
            return KinesisError(code: .transport, message: "cannot reach the endpoint: connection reset by peer", operation: "PutRecords")
        }
        if requestFaults.chance(faults.requestInternalErrorRate) {
            return KinesisError(code: "InternalFailure", message: "Internal service failure.", operation: "PutRecords", httpStatus: 500)
        }
        if requestFaults.chance(faults.requestThrottleRate) {
            return KinesisError(code: .provisionedThroughputExceeded, message: "Rate exceeded for stream s.", operation: "PutRecords", httpStatus: 400)
        }
        if requestFaults.chance(faults.kmsThrottlingRate) {
            return KinesisError(code: .kmsThrottling, message: "Rate exceeded for KMS key used by the stream.", operation: "PutRecords", httpStatus: 400)
        }
        return nil
    }

    var delivered: Int { producers.map(\.machine.stats.delivered).reduce(0, +) }
    var serverAccepted: Int { backend.streams[backend.defaultAddress("s")]!.shards.map(\.accepted).reduce(0, +) }
    var serverThrottled: Int { backend.streams[backend.defaultAddress("s")]!.shards.map(\.throttled).reduce(0, +) }
    var throttledShare: Double { Double(serverThrottled) / Double(max(1, serverAccepted + serverThrottled)) }
    /// What the server stored and throttled, and each producer delivered, over one run of `duration`.
    struct Window {
        var seconds: Double
        var accepted: Int
        /// Server throttles, random and for capacity.
        var throttled: Int
        var delivered: [Int]
        var recordsPerSecond: Double { Double(accepted) / seconds }
        var throttledShare: Double { Double(throttled) / Double(max(1, accepted + throttled)) }
        /// Each producer's part of what was stored.
        var shares: [Double] { delivered.map { Double($0) / Double(max(1, accepted)) } }
    }

    /// Runs for `duration` and reports that window alone.
    mutating func window(for duration: Duration) throws -> Window {
        let (accepted, throttled) = (serverAccepted, serverThrottled)
        let delivered = producers.map(\.machine.stats.delivered)
        try run(for: duration)
        return Window(
            seconds: duration.inSeconds,
            accepted: serverAccepted - accepted,
            throttled: serverThrottled - throttled,
            delivered: producers.indices.map { producers[$0].machine.stats.delivered - (delivered.indices.contains($0) ? delivered[$0] : 0) }
        )
    }

    /// Records the producers lost (failed for good: expired or out of attempts).
    var failed: Int { producers.map(\.machine.stats.failed).reduce(0, +) }
}
