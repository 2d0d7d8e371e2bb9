import Benchmark
import KinesisAggregation

/// KPL aggregation of 100-byte user records (1000 partition keys) into aggregates of at most 50 KiB, as the Runner
/// fills them: an iteration handles 1000 user records (three aggregates), so the scaled numbers are per user record.
func aggregationBenchmarks() {
    let maxSize = 51_200
    let records = Fixtures.userRecords(1000)

    /// Adds `record` to the aggregate being filled, or starts a new one when it would pass `maxSize`; returns
    /// whether it started a new one.
    func track(_ record: KinesisAggregation.UserRecord, in estimator: inout KinesisAggregation.SizeEstimator) -> Bool {
        var increment = estimator.increment(for: record)
        var started = false
        if estimator.count > 0, estimator.size + increment.bytes > maxSize {
            estimator = KinesisAggregation.SizeEstimator()
            increment = estimator.increment(for: record)
            started = true
        }
        estimator.add(record, increment)
        return started
    }

    var groups: [[KinesisAggregation.UserRecord]] = [[]]
    var estimator = KinesisAggregation.SizeEstimator()
    for record in records {
        if track(record, in: &estimator) { groups.append([]) }
        groups[groups.count - 1].append(record)
    }
    let aggregates = groups.map(KinesisAggregation.aggregate)
    precondition(aggregates.allSatisfy { $0.count <= maxSize } && groups.count == 3)

    Benchmark("Aggregation SizeEstimator increment + add, per user record") { benchmark in
        var estimator = KinesisAggregation.SizeEstimator()
        for index in benchmark.scaledIterations {
            blackHole(track(records[index % records.count], in: &estimator))
        }
    }
    Benchmark("Aggregation aggregate() into ≤ 50 KiB aggregates, per user record") { benchmark in
        precondition(benchmark.scaledIterations.count == records.count)
        for group in groups {
            blackHole(KinesisAggregation.aggregate(group))
        }
    }
    Benchmark("Deaggregation of ≤ 50 KiB aggregates, per user record") { benchmark in
        precondition(benchmark.scaledIterations.count == records.count)
        for aggregate in aggregates {
            blackHole(KinesisAggregation.deaggregate(aggregate))
        }
    }
}
