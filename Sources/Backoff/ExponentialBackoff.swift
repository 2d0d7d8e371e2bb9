/// Exponential backoff with full jitter, AWS's recommendation: after attempt n, wait a uniformly random time in
/// `0 … min(cap, base × 2^(n−1))`. The one backoff rule of the package: the client's retries and the producer's
/// per-record retries use it, and the credential cache takes its ceilings.
package struct ExponentialBackoff: Sendable {
    /// The ceiling after the first attempt.
    package var base: Duration
    /// The largest ceiling.
    package var cap: Duration

    package init(base: Duration, cap: Duration) {
        self.base = base
        self.cap = cap
    }

    /// `min(cap, base × 2^(attempt−1))`; attempts below 1 count as 1.
    package func ceiling(afterAttempt attempt: Int) -> Duration {
        min(cap, base * (1 << min(max(attempt - 1, 0), 20)))
    }

    /// A uniformly random wait in `0 … ceiling(afterAttempt: attempt)`, drawn from `generator`.
    package func delay(afterAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = ceiling(afterAttempt: attempt)
        let nanoseconds = ceiling.inNanoseconds
        guard nanoseconds > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanoseconds, using: &generator))
    }
}
