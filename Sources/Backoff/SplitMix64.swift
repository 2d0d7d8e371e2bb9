/// SplitMix64: a small, fast generator whose sequence its seed fixes, so a run with random backoff or random
/// faults can be repeated exactly from the seed it printed.
package struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The seed this generator started from.
    package let seed: UInt64
    private var state: UInt64

    package init(seed: UInt64) {
        self.seed = seed
        state = seed
    }

    /// Seeded with `seed`, or from the system's generator when it is nil.
    package init(seed: UInt64?) {
        self.init(seed: seed ?? UInt64.random(in: .min ... .max))
    }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
