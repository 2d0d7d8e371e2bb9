import AWSCredentials
import AWSSigning
import Foundation
import Logging
import Synchronization
import Testing

/// The JSON object in `bytes`, or a test failure.
func jsonObject(_ bytes: some Sequence<UInt8>, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    return try #require(object as? [String: Any], "not a JSON object: \(String(decoding: Array(bytes), as: UTF8.self))", sourceLocation: sourceLocation)
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

/// An environment that reads no developer files and cannot reach the EC2 metadata service.
func isolatedEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
    var environment = ["HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"]
    environment.merge(extra) { _, new in new }
    return environment
}
