import Metrics
import Synchronization

/// A swift-metrics factory that keeps every sample of the runner's two latency timers — push delay (one per
/// PutRecords call) and record latency (one per record) — so a benchmark can report exact percentiles rather than
/// histogram buckets. Every metric, the two timers included, also goes to `base` (nowhere by default).
final class LatencySampler: MetricsFactory, Sendable {
    /// `kinesis_pusher_push_delay_seconds`: a batch handed to its PutRecords call until the call finished.
    let pushDelay = Samples()
    /// `kinesis_pusher_record_latency_seconds`: a record accepted until Kinesis acknowledged it.
    let recordLatency = Samples()
    private let base: any MetricsFactory

    init(base: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.base = base
    }

    /// Nanosecond samples of one timer.
    final class Samples: Sendable {
        private let values = Mutex<[Int64]>([])

        var count: Int { values.withLock { $0.count } }

        func append(_ nanoseconds: Int64) {
            values.withLock { $0.append(nanoseconds) }
        }

        /// Nearest-rank percentile (`fraction` from 0 to 1) in milliseconds; nil without samples.
        func percentileMilliseconds(_ fraction: Double) -> Double? {
            let sorted = values.withLock { $0.sorted() }
            guard !sorted.isEmpty else { return nil }
            let rank = min(sorted.count - 1, max(0, Int((fraction * Double(sorted.count)).rounded(.up)) - 1))
            return Double(sorted[rank]) / 1e6
        }
    }

    /// A timer that keeps its samples and passes them on.
    private final class SampledTimer: TimerHandler, Sendable {
        let samples: Samples
        let next: any TimerHandler

        init(samples: Samples, next: any TimerHandler) {
            self.samples = samples
            self.next = next
        }

        func recordNanoseconds(_ duration: Int64) {
            samples.append(duration)
            next.recordNanoseconds(duration)
        }
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let next = base.makeTimer(label: label, dimensions: dimensions)
        switch label {
        case "kinesis_pusher_push_delay_seconds": return SampledTimer(samples: pushDelay, next: next)
        case "kinesis_pusher_record_latency_seconds": return SampledTimer(samples: recordLatency, next: next)
        default: return next
        }
    }

    func destroyTimer(_ handler: any TimerHandler) {
        base.destroyTimer((handler as? SampledTimer)?.next ?? handler)
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        base.makeCounter(label: label, dimensions: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        base.makeFloatingPointCounter(label: label, dimensions: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        base.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        base.makeMeter(label: label, dimensions: dimensions)
    }

    func destroyCounter(_ handler: any CounterHandler) { base.destroyCounter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { base.destroyFloatingPointCounter(handler) }
    func destroyRecorder(_ handler: any RecorderHandler) { base.destroyRecorder(handler) }
    func destroyMeter(_ handler: any MeterHandler) { base.destroyMeter(handler) }
}
