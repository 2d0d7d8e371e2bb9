/// A token bucket refilled continuously at `rate` per second up to `capacity` (one second of burst).
///
/// A request larger than the whole capacity (a 10 MiB record against 1 MiB/s) passes when the bucket is full and
/// drives it negative, as Kinesis lets large records consume refilling burst capacity.
struct TokenBucket: Sendable {
    let rate: Double
    let capacity: Double
    private(set) var tokens: Double
    private var updatedAt: Double

    init(rate: Double, now: Double) {
        self.rate = rate
        self.capacity = rate
        self.tokens = rate
        self.updatedAt = now
    }

    mutating func refill(now: Double) {
        if now > updatedAt {
            tokens = min(capacity, tokens + (now - updatedAt) * rate)
            updatedAt = now
        }
    }

    func canTake(_ amount: Double) -> Bool {
        tokens >= min(amount, capacity)
    }

    mutating func take(_ amount: Double) {
        tokens -= amount
    }
}
