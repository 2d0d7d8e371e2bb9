import Backoff
import Testing

@Suite("Exponential backoff with full jitter")
struct ExponentialBackoffTests {
    @Test("every delay lies in 0 … min(cap, base × 2^(attempt−1)) and the draws spread over it")
    func bounds() {
        let backoff = ExponentialBackoff(base: .milliseconds(100), cap: .seconds(5))
        var generator = SplitMix64(seed: 1)
        for attempt in [1, 2, 3, 5, 6, 7, 30, 1000] {
            let ceiling = min(Duration.seconds(5), .milliseconds(100) * (1 << min(attempt - 1, 20)))
            #expect(backoff.ceiling(afterAttempt: attempt) == ceiling)
            let samples = (0..<400).map { _ in backoff.delay(afterAttempt: attempt, using: &generator) }
            #expect(samples.allSatisfy { $0 >= .zero && $0 <= ceiling }, "attempt \(attempt)")
            #expect(samples.max()! > ceiling * 0.9, "attempt \(attempt)")
            #expect(samples.min()! < ceiling * 0.1, "attempt \(attempt)")
        }
        // Attempts below 1 count as the first; a zero base never waits.
        #expect(backoff.ceiling(afterAttempt: 0) == .milliseconds(100))
        #expect(backoff.ceiling(afterAttempt: -3) == .milliseconds(100))
        #expect(ExponentialBackoff(base: .zero, cap: .seconds(5)).delay(afterAttempt: 3, using: &generator) == .zero)
    }

    @Test("the same seed draws the same delays, so a failing run can be replayed; another seed draws others")
    func replayable() {
        let backoff = ExponentialBackoff(base: .milliseconds(50), cap: .seconds(2))
        func delays(seed: UInt64) -> [Duration] {
            var generator = SplitMix64(seed: seed)
            return (1...40).map { backoff.delay(afterAttempt: $0 % 7 + 1, using: &generator) }
        }
        #expect(delays(seed: 2026) == delays(seed: 2026))
        #expect(delays(seed: 2026) != delays(seed: 2027))
        // Without a seed, the generator says which one it drew, and that seed replays it.
        let drawn = SplitMix64(seed: nil)
        var replay = SplitMix64(seed: drawn.seed)
        var original = drawn
        #expect((0..<8).map { _ in original.next() } == (0..<8).map { _ in replay.next() })
    }
}
