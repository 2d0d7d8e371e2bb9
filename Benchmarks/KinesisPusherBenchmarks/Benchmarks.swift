import Benchmark

// Micro-benchmarks of the producer's hot paths. Each benchmark names its unit of work ("per record", "per
// request"): one iteration does 1000 of them (`scalingFactor: .kilo`, `for _ in benchmark.scaledIterations`). The
// tables show values per unit (marked `*`, rounded to whole mallocs); with package-benchmark 1.38.1, `--scale`
// shows the unscaled values instead: per 1000 units, which keeps the fractions of a malloc.
//
// mallocs are counted process-wide by package-benchmark's malloc interposer: for the benchmarks that run a Runner
// against KinesisLocal they include the server's and the HTTP client's allocations too.

/// Registers every benchmark; called by the `@main` that package-benchmark's plugin generates (as
/// `_ = benchmarks()`, which warns for a function returning Void but not for a closure).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal],
        warmupIterations: 3,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 100_000
    )
    signingBenchmarks()
    putRecordsBodyBenchmarks()
    shardPredictionBenchmarks()
    aggregationBenchmarks()
    putRecordsResponseBenchmarks()
    intakeBenchmarks()
}
