extension Array where Element == UInt8 {
    /// `count` random bytes drawn from `generator`.
    public static func random(count: Int, using generator: inout some RandomNumberGenerator) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}
