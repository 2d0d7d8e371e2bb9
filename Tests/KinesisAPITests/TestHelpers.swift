import AWSCredentials
import AWSSigning
import Foundation
import KinesisAPI
import Logging
import Synchronization
import Testing

/// A deterministic generator, so a failing random case can be reproduced from its seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Array where Element == UInt8 {
    static func random(count: Int, using generator: inout some RandomNumberGenerator) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}

/// The even split of the hash ring into `count` shards, as AWS and moto create them:
/// `step = 2^128 / count`, shard i = `[i·step, (i+1)·step − 1]`, the last one ending at `2^128 − 1`.
func evenSplit(_ count: Int) -> [Shard.HashKeyRange] {
    let n = UInt128(count)
    // 2^128 / n without overflowing: (2^128 − 1) / n, plus one when n divides 2^128 exactly.
    let step = UInt128.max / n + (UInt128.max % n == n - 1 ? 1 : 0)
    return (0..<n).map { i in
        let start = i * step
        let end = i == n - 1 ? UInt128.max : (i + 1) * step - 1
        return Shard.HashKeyRange(startingHashKey: HashKey(start), endingHashKey: HashKey(end))
    }
}

/// The index of the range that takes `key`: the first whose (inclusive) end is ≥ the key, as the KPL routes.
func route(_ key: HashKey, in ranges: [Shard.HashKeyRange]) -> Int? {
    ranges.firstIndex { $0.endingHashKey >= key }
}

/// The JSON object in `bytes`, or a test failure.
func jsonObject(_ bytes: some Sequence<UInt8>, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    return try #require(object as? [String: Any], "not a JSON object: \(String(decoding: Array(bytes), as: UTF8.self))", sourceLocation: sourceLocation)
}

/// Runs `body` and returns the `KinesisError` it throws; records a failure when it throws something else or nothing.
func kinesisError(
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async -> KinesisError? {
    do {
        try await body()
        Issue.record("expected a KinesisError, but the call succeeded", sourceLocation: sourceLocation)
        return nil
    } catch let error as KinesisError {
        return error
    } catch {
        Issue.record("expected a KinesisError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Hands out one identity until `invalidate()` is called, then the next one; counts calls.
final class SequencedCredentialProvider: CredentialProvider {
    let name = "sequenced test credentials"
    private struct State {
        var index = 0
        var invalidations = 0
        var fetches = 0
    }
    private let identities: [AWSCredentialIdentity]
    private let state = Mutex(State())

    init(_ identities: [AWSCredentialIdentity]) {
        precondition(!identities.isEmpty)
        self.identities = identities
    }

    func credentials(logger: Logger) async throws -> AWSCredentialIdentity {
        state.withLock { state in
            state.fetches += 1
            return identities[min(state.index, identities.count - 1)]
        }
    }

    func invalidate() {
        state.withLock { state in
            state.invalidations += 1
            state.index += 1
        }
    }

    var invalidations: Int { state.withLock { $0.invalidations } }
    var fetches: Int { state.withLock { $0.fetches } }
}

/// A counter shared between a test and a server handler.
final class Counter: Sendable {
    private let value = Mutex(0)
    /// Adds one and returns the new value.
    func next() -> Int { value.withLock { $0 += 1; return $0 } }
    var current: Int { value.withLock { $0 } }
}

enum TestCredentials {
    static let example = AWSCredentialIdentity(
        accessKeyID: "AKIDEXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    )
}

/// An environment that reads no developer files and cannot reach the EC2 metadata service.
func isolatedEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
    var environment = ["HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"]
    environment.merge(extra) { _, new in new }
    return environment
}
