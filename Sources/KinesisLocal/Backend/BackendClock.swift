import Backoff
import Foundation

/// Seconds since 1970 that never step: the wall clock read once, advanced by a monotonic clock.
///
/// Token buckets refill from these readings. A wall-clock step (NTP correcting a CI machine) would otherwise hand
/// every shard a burst it never earned, or starve them all until the clock caught up.
struct BackendClock: Sendable {
    private let wallAtStart: Double
    private let start: ContinuousClock.Instant

    init() {
        wallAtStart = Date().timeIntervalSince1970
        start = .now
    }

    func now() -> Double {
        wallAtStart + (ContinuousClock.now - start).inSeconds
    }
}
