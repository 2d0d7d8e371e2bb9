import Metrics
import Synchronization

/// Per-file metrics of `push --follow` and `--checkpoint`, labelled `file` by the absolute path (as many series as
/// files named): how far behind the end each file is, and its records delivered.
final class FileMetrics: Sendable {
    static let bytesBehind = "kinesis_pusher_file_bytes_behind"
    static let delivered = "kinesis_pusher_file_delivered_records_total"

    static let help: [String: String] = [
        bytesBehind: "Bytes of a followed file not yet delivered: the rest of the file the delivered position is in, plus the file now under the path when it was rotated since.",
        delivered: "Records of a followed file delivered in this run.",
    ]

    private let behind: [Gauge]
    private let deliveredCounters: [Counter]
    private let published: Mutex<[Int]>

    init(paths: [String], factory: any MetricsFactory) {
        behind = paths.map { Gauge(label: Self.bytesBehind, dimensions: [("file", $0)], factory: factory) }
        deliveredCounters = paths.map { Counter(label: Self.delivered, dimensions: [("file", $0)], factory: factory) }
        published = Mutex(Array(repeating: 0, count: paths.count))
    }

    /// Publishes the files' progress (one entry per path, in order).
    func update(_ progress: [FileShipping.Progress]) {
        let increments = published.withLock { published in
            progress.indices.map { index in
                defer { published[index] = progress[index].delivered }
                return progress[index].delivered - published[index]
            }
        }
        for index in progress.indices {
            behind[index].record(progress[index].bytesBehind)
            if increments[index] > 0 { deliveredCounters[index].increment(by: increments[index]) }
        }
    }
}
