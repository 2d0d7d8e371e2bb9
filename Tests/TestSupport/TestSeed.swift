import Foundation

/// The seed of this test process's random choices that are not fixed in the test itself (the producer's retry
/// jitter): `KINESIS_PUSHER_TEST_SEED` when set, else drawn once and printed, so a failing run can be replayed
/// with `KINESIS_PUSHER_TEST_SEED=<seed> swift test --filter <test>`.
public enum TestSeed {
    public static let value: UInt64 = {
        if let text = ProcessInfo.processInfo.environment["KINESIS_PUSHER_TEST_SEED"], let seed = UInt64(text) {
            return seed
        }
        let seed = UInt64.random(in: .min ... .max)
        print("test seed \(seed) (replay with KINESIS_PUSHER_TEST_SEED=\(seed))")
        return seed
    }()
}
