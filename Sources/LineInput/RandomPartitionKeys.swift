import Backoff

/// Random partition keys for `push` records that get none from their input, drawn without a system call per key.
///
/// Each key is one 64-bit draw of a ``SplitMix64`` (seeded once, from the system's generator unless a seed is
/// given) written as 13 characters of base 32 (`0`–`9`, `a`–`v`, most significant first): every draw gives a
/// different key, and 13 ASCII bytes fit in a Swift small string, so making a key allocates nothing. Kinesis routes
/// a record by the MD5 of its key, which spreads any set of distinct keys evenly over the shards.
package struct RandomPartitionKeys: Sendable {
    /// Characters in every key.
    package static let length = 13

    private var generator: SplitMix64

    /// Keys from a generator seeded with `seed`, or from the system's generator when it is nil.
    package init(seed: UInt64? = nil) {
        generator = SplitMix64(seed: seed)
    }

    /// The seed the keys come from (to repeat a run's keys).
    package var seed: UInt64 { generator.seed }

    /// The next key.
    package mutating func next() -> String {
        var value = generator.next()
        return String(unsafeUninitializedCapacity: Self.length) { buffer in
            for index in stride(from: Self.length - 1, through: 0, by: -1) {
                let digit = UInt8(truncatingIfNeeded: value & 31)
                buffer[index] = digit < 10 ? 0x30 + digit : 0x57 + digit  // '0'… or 'a' (0x61) − 10 …
                value >>= 5
            }
            return Self.length
        }
    }
}
