import AWSCredentials
import AWSSigning
import Benchmark
import KinesisLocal
import KinesisPusher
import Synchronization

/// `Runner.send` per 100-byte record, through the public API only, measured two ways:
///
/// - **into a buffer nothing drains**: a fresh Runner per iteration, never run, with room for the iteration's 1000
///   records, so every `send` takes the no-suspension fast path (validation, MD5, the state-machine lock, the
///   append). This is the intake's own cost, apart from everything the end-to-end number adds.
/// - **end to end**: an async Runner (`withRateLimit(percent: nil)`) pushing over loopback HTTP to a KinesisLocal
///   in this process with per-shard limits off. An iteration sends 1000 records (two full batches, so no flush
///   timer is involved) and waits until all of them are acknowledged, so the time per record is the whole
///   pipeline's on this machine (intake, batching, signing, HTTP, the server's parsing and storing, reading the
///   answer, all sharing its cores), for bursts of 1000 records, and the mallocs are the whole process's. (Left
///   to drain between iterations, the runner does most of its work outside the measured time: the benchmark
///   harness spends milliseconds between iterations on a loaded 2-core machine.)
///
/// Each is run with one sender and with 8 concurrent senders (8 tasks, 125 records each per iteration).
func intakeBenchmarks() {
    let records = (0..<1000).map { index in
        Record(data: Fixtures.data(index), partitionKey: Fixtures.partitionKey(index))
    }

    for senders in [1, 8] {
        Benchmark("Runner.send into an undrained buffer, \(senders) sender\(senders == 1 ? "" : "s"), per record") { benchmark in
            let runner = Runner(bufferSize: benchmark.scaledIterations.count, maxConcurrentPuts: 10)
            benchmark.startMeasurement()
            try await send(records, count: benchmark.scaledIterations.count, to: runner, senders: senders)
            benchmark.stopMeasurement()
            precondition(runner.stats.buffered == benchmark.scaledIterations.count)
        }
    }
    Benchmark("Runner.trySend into an undrained buffer, 1 sender, per record") { benchmark in
        let runner = Runner(bufferSize: benchmark.scaledIterations.count, maxConcurrentPuts: 10)
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            guard try runner.trySend(records[index % records.count]) else { fatalError("the buffer was full") }
        }
        benchmark.stopMeasurement()
    }

    for senders in [1, 8] {
        let pipeline = LocalPipeline()
        Benchmark(
            "Runner.send end to end to KinesisLocal in process, \(senders) sender\(senders == 1 ? "" : "s"), per record",
            configuration: .init(
                setup: { try await pipeline.start() },
                teardown: { try await pipeline.stop() }
            )
        ) { benchmark in
            let runner = pipeline.runner
            try await send(records, count: benchmark.scaledIterations.count, to: runner, senders: senders)
            let sent = runner.stats.sent
            while runner.stats.delivered < sent {
                try await Task.sleep(for: .microseconds(50))
            }
        }
    }
}

/// Sends `count` records (cycling through `records`) from `senders` concurrent tasks.
private func send(_ records: [Record], count: Int, to runner: Runner, senders: Int) async throws {
    if senders == 1 {
        for index in 0..<count { try await runner.send(records[index % records.count]) }
        return
    }
    try await withThrowingTaskGroup(of: Void.self) { group in
        for sender in 0..<senders {
            group.addTask {
                for index in stride(from: sender, to: count, by: senders) {
                    try await runner.send(records[index % records.count])
                }
            }
        }
        try await group.waitForAll()
    }
}

/// A KinesisLocal in this process (per-shard limits off, a 4-shard stream) drained by an async Runner without a
/// client-side rate limit; started in a benchmark's setup and stopped in its teardown.
final class LocalPipeline: Sendable {
    private struct Running: Sendable {
        var server: KinesisLocal
        var runner: Runner
        var loop: Task<Void, any Error>
    }

    private let running = Mutex<Running?>(nil)

    var runner: Runner {
        running.withLock { running in
            guard let running else { fatalError("LocalPipeline used outside its benchmark's setup and teardown") }
            return running.runner
        }
    }

    func start() async throws {
        let server = try await KinesisLocal.start(
            .init(
                streams: [.init(name: "bench", shardCount: 4)],
                shardLimits: .off,
                retention: .init(maxRecords: 50_000, maxBytes: 16 << 20)
            )
        )
        let runner = Runner(bufferSize: 10_000, maxConcurrentPuts: 10)
            .withAsync()
            .withRateLimit(percent: nil)
            .withCredentialProvider(StaticCredentialProvider(AWSCredentialIdentity(accessKeyID: "AKIDBENCH", secretAccessKey: "bench")))
        try runner.configure(AWSConfig(region: "us-east-1", profile: nil, streamName: "bench", endpoint: server.endpoint))
        try await runner.checkShards()
        let loop = Task { try await runner.run() }
        running.withLock { $0 = Running(server: server, runner: runner, loop: loop) }
    }

    func stop() async throws {
        guard let running = running.withLock({ running in defer { running = nil }; return running }) else { return }
        await running.runner.shutdown()
        try await running.loop.value
        let stats = running.runner.stats
        try await running.server.stop()
        guard stats.failed == 0, stats.delivered == stats.sent else {
            throw BenchmarkFailure(message: "the runner lost records: \(stats)")
        }
    }
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
