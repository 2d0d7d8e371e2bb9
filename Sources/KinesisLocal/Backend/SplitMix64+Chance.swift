import Backoff

extension SplitMix64 {
    /// True with probability `rate` (0 … 1); draws nothing when the rate is zero, so an idle fault costs nothing.
    mutating func chance(_ rate: Double) -> Bool {
        guard rate > 0 else { return false }
        return Double(next() >> 11) / Double(1 << 53) < rate
    }
}
