import Foundation
import KinesisAPI
import KinesisPusher
import Synchronization

/// The records a push could not deliver, by cause, so its last lines say why and not only how many: one line per
/// cause (the runner's code and the last Kinesis error code) with a count and the first such record's message.
final class FailureSummary: Sendable {
    private struct Cause {
        var count = 0
        var example: String
    }

    private let causes = Mutex<[String: Cause]>([:])
    /// Most causes listed; the rest are counted together.
    static let listed = 10

    /// The runner's failure handler.
    func record(_ failure: RunnerFailure) {
        let key = "\(failure.error.code)" + (failure.error.kinesisError.map { " (\($0.code))" } ?? "")
        causes.withLock { causes in
            causes[key, default: Cause(example: failure.error.message)].count += 1
        }
    }

    /// One line per cause, most frequent first; empty when nothing failed in the runner.
    var lines: [String] {
        let sorted = causes.withLock { $0 }.sorted { $0.value.count > $1.value.count }
        var lines = sorted.prefix(Self.listed).map { key, cause in
            "failed: \(cause.count) record\(cause.count == 1 ? "" : "s") \(key), first: \(cause.example.prefix(300))"
        }
        let rest = sorted.dropFirst(Self.listed).reduce(0) { $0 + $1.value.count }
        if rest > 0 { lines.append("failed: \(rest) more records for \(sorted.count - Self.listed) other causes") }
        return lines
    }
}
