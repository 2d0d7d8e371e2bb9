import KinesisAPI
import NIOCore
import Testing
import TestSupport

@testable import KinesisLocal
@testable import KinesisPusher

/// Producers paced by their ``ProducerStateMachine`` against KinesisLocal's backend (its per-shard token buckets),
/// on simulated time: what a run would deliver and how much Kinesis would throttle, free of the machine's load.
/// Like the runner's loop, each producer acts on its state machine's next action and wakes when an answer arrives
/// or at the instant the machine asked to be woken (producers start out of phase with each other). Requests go
/// through the real PutRecords writer and answer reader and are answered `latency` later.
struct PacingSimulation {
    struct Producer {
        var machine: ProducerStateMachine
        var inFlight: [(answeredAt: ContinuousClock.Instant, batch: ProducerStateMachine.Batch, answer: PutRecordsResult)] = []
        var wakeAt: ContinuousClock.Instant?
        var offered = 0
    }

    var producers: [Producer]
    var backend: BackendState
    let start = ContinuousClock.now
    private(set) var now: ContinuousClock.Instant
    let latency: Duration
    let bufferSize: Int

    /// `producers` runners with `configure`'s settings on one stream "s" of `shards` shards, each knowing the
    /// shard map; the server's limits are on unless `limits` says otherwise.
    init(
        producers count: Int = 1,
        shards: Int,
        limits: KinesisLocal.Configuration.ShardLimits = .init(),
        latency: Duration = .milliseconds(20),
        rateLimitPercent: Double? = 100,
        _ configure: (inout RunnerConfiguration) -> Void = { _ in }
    ) throws {
        var configuration = RunnerConfiguration(bufferSize: 1000, maxConcurrentPuts: 4)
        configuration.isAsync = true
        configure(&configuration)
        bufferSize = configuration.bufferSize
        now = start
        self.latency = latency
        backend = BackendState(configuration: .init(shardLimits: limits))
        try backend.createStream(name: "s", shardCount: shards, mode: nil, maxRecordSizeKiB: nil, now: 0)
        let map = try Fixture.evenMap(shards)
        let start = start
        producers = (0..<count).map { index in
            var machine = ProducerStateMachine(
                limits: .init(configuration),
                rateLimitPercent: rateLimitPercent,
                jitterSeed: TestSeed.value &+ UInt64(index)
            )
            _ = machine.install(map, now: start)
            return Producer(machine: machine, wakeAt: start + .milliseconds(25) * index / count)
        }
    }

    /// Runs every producer for `duration` of simulated time in 1 ms steps, each offered more records than the
    /// stream takes; then lets the calls in flight be answered.
    mutating func run(for duration: Duration) throws {
        let end = now + duration
        while now < end {
            for index in producers.indices {
                try Self.step(&producers[index], index: index, backend: &backend, at: now, start: start, latency: latency, bufferSize: bufferSize)
            }
            now += .milliseconds(1)
        }
        for index in producers.indices {
            for call in producers[index].inFlight {
                _ = producers[index].machine.complete(call.batch, with: .success(call.answer), now: call.answeredAt)
            }
            producers[index].inFlight = []
        }
    }

    private static func step(
        _ producer: inout Producer,
        index: Int,
        backend: inout BackendState,
        at now: ContinuousClock.Instant,
        start: ContinuousClock.Instant,
        latency: Duration,
        bufferSize: Int
    ) throws {
        var woken = false
        while let call = producer.inFlight.first, call.answeredAt <= now {
            producer.inFlight.removeFirst()
            _ = producer.machine.complete(call.batch, with: .success(call.answer), now: now)
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
                let body = PutRecordsBody.encode(Runner.kinesisRecords(of: batch), stream: .name("s"))
                let elapsed = now - start
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                let answer = try backend.putRecords(body, now: seconds)
                let result = try PutRecordsResult.decode(answer: answer, recordCount: batch.records.count)
                producer.inFlight.append((now + latency, batch, result))
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

    var delivered: Int { producers.map(\.machine.stats.delivered).reduce(0, +) }
    var serverAccepted: Int { backend.streams["s"]!.shards.map(\.accepted).reduce(0, +) }
    var serverThrottled: Int { backend.streams["s"]!.shards.map(\.throttled).reduce(0, +) }
    var throttledShare: Double { Double(serverThrottled) / Double(max(1, serverAccepted + serverThrottled)) }
}
