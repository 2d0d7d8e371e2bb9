import AWSCredentials
import AWSSigning
import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

/// A provider whose answers the test scripts: each call takes the next result, after an optional delay.
final class ScriptedProvider: CredentialProvider {
    let name: String
    private let script: Mutex<[Result<AWSCredentialIdentity, CredentialProviderError>]>
    private let calls = Atomic<Int>(0)
    private let delay: Duration

    init(name: String = "scripted", delay: Duration = .zero, _ script: [Result<AWSCredentialIdentity, CredentialProviderError>]) {
        self.name = name
        self.delay = delay
        self.script = Mutex(script)
    }

    var callCount: Int { calls.load(ordering: .relaxed) }

    func credentials(logger: Logger) async throws -> AWSCredentialIdentity {
        calls.add(1, ordering: .relaxed)
        if delay > .zero { try await Task.sleep(for: delay) }
        let next = script.withLock { script in script.count > 1 ? script.removeFirst() : script[0] }
        return try next.get()
    }
}

/// A wall clock the test moves by hand.
final class ManualClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 += seconds } }
}

func identity(_ key: String, expiresAt: Date?) -> AWSCredentialIdentity {
    AWSCredentialIdentity(accessKeyID: key, secretAccessKey: "secret-\(key)", sessionToken: "token", expiration: expiresAt)
}

let failure = CredentialProviderError(.fetchFailed, provider: "scripted", message: "the source is down")

@Suite("Caching credential provider")
struct CachingTests {
    @Test("one fetch serves many callers; concurrent first callers share a single refresh")
    func singleFlight() async throws {
        let clock = ManualClock()
        let base = ScriptedProvider(delay: .milliseconds(100), [.success(identity("A", expiresAt: clock.now + 3600))])
        let cache = CachingCredentialProvider(base, logger: testLogger, now: { clock.now })
        let keys = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<50 { group.addTask { try await cache.credentials(logger: testLogger).accessKeyID } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(keys == Array(repeating: "A", count: 50))
        #expect(base.callCount == 1)
        _ = try await cache.credentials(logger: testLogger)
        #expect(base.callCount == 1)
    }

    @Test("near expiry the cached identity keeps serving while one background refresh runs")
    func refreshAhead() async throws {
        let clock = ManualClock()
        let base = ScriptedProvider(delay: .milliseconds(50), [
            .success(identity("A", expiresAt: clock.now + 600)), .success(identity("B", expiresAt: clock.now + 7200)),
        ])
        let cache = CachingCredentialProvider(base, refreshWindow: .seconds(300), logger: testLogger, now: { clock.now })
        #expect(try await cache.credentials(logger: testLogger).accessKeyID == "A")
        clock.advance(400)  // 200 s left: inside the refresh window, still valid
        for _ in 0..<10 { #expect(try await cache.credentials(logger: testLogger).accessKeyID == "A") }
        // The refresh runs in the background; under a loaded machine it may take a while to be scheduled.
        try await until { try await cache.credentials(logger: testLogger).accessKeyID == "B" }
        #expect(base.callCount == 2)
    }

    @Test("a failed refresh keeps the valid cached identity serving, with backoff; after expiry the error surfaces")
    func staleWhileFailing() async throws {
        let clock = ManualClock()
        let base = ScriptedProvider([.success(identity("A", expiresAt: clock.now + 600)), .failure(failure)])
        let cache = CachingCredentialProvider(base, refreshWindow: .seconds(300), logger: testLogger, now: { clock.now })
        _ = try await cache.credentials(logger: testLogger)
        clock.advance(400)
        #expect(try await cache.credentials(logger: testLogger).accessKeyID == "A")
        try await until { base.callCount == 2 }
        // Backing off: the next calls in the same second do not hammer the failing source. (A refresh they started
        // by mistake would run in the background: give it time to show.)
        for _ in 0..<5 { #expect(try await cache.credentials(logger: testLogger).accessKeyID == "A") }
        try await Task.sleep(for: .milliseconds(200))
        #expect(base.callCount == 2)
        clock.advance(300)  // now past expiry
        let error = await #expect(throws: CredentialProviderError.self) {
            try await cache.credentials(logger: testLogger)
        }
        #expect(error?.message == "the source is down")
    }

    @Test("invalidate forces the next call to fetch anew")
    func invalidation() async throws {
        let base = ScriptedProvider([.success(identity("A", expiresAt: nil)), .success(identity("B", expiresAt: nil))])
        let cache = CachingCredentialProvider(base, logger: testLogger)
        #expect(try await cache.credentials(logger: testLogger).accessKeyID == "A")
        #expect(try await cache.credentials(logger: testLogger).accessKeyID == "A")
        cache.invalidate()
        #expect(try await cache.credentials(logger: testLogger).accessKeyID == "B")
        #expect(base.callCount == 2)
    }

    @Test("no sticky error: after a failure with nothing cached, the next call tries again")
    func noStickyError() async throws {
        let base = ScriptedProvider([.failure(failure), .success(identity("A", expiresAt: nil))])
        let cache = CachingCredentialProvider(base, logger: testLogger)
        await #expect(throws: CredentialProviderError.self) { try await cache.credentials(logger: testLogger) }
        #expect(try await cache.credentials(logger: testLogger).accessKeyID == "A")
    }
}

@Suite("Credential provider chain")
struct ChainTests {
    static let notConfigured = CredentialProviderError(.notConfigured, provider: "one", message: "ONE_VAR is not set")

    @Test("skips providers that are not configured and sticks with the winner")
    func firstConfiguredWins() async throws {
        let skipped = ScriptedProvider(name: "one", [.failure(Self.notConfigured)])
        let winner = ScriptedProvider(name: "two", [.success(identity("TWO", expiresAt: nil))])
        let never = ScriptedProvider(name: "three", [.success(identity("THREE", expiresAt: nil))])
        let chain = CredentialProviderChain([skipped, winner, never])
        #expect(try await chain.credentials(logger: testLogger).accessKeyID == "TWO")
        #expect(try await chain.credentials(logger: testLogger).accessKeyID == "TWO")
        #expect(chain.activeProvider == "two")
        #expect(skipped.callCount == 1)
        #expect(never.callCount == 0)
    }

    @Test("a configured provider that fails stops the chain with its own error")
    func brokenProviderIsNotSkipped() async throws {
        let broken = ScriptedProvider(name: "broken", [.failure(failure)])
        let later = ScriptedProvider(name: "later", [.success(identity("L", expiresAt: nil))])
        let error = await #expect(throws: CredentialProviderError.self) {
            try await CredentialProviderChain([broken, later]).credentials(logger: testLogger)
        }
        #expect(error?.code == .fetchFailed)
        #expect(later.callCount == 0)
    }

    @Test("the default chain with nothing configured lists every provider and why")
    func nothingConfigured() async throws {
        try await withHTTPClient { client in
            let chain = DefaultCredentialChain.make(
                environment: ["HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"],
                httpClient: client,
                logger: testLogger
            )
            let error = await #expect(throws: CredentialProviderError.self) {
                try await chain.credentials(logger: testLogger)
            }
            #expect(error?.code == .noCredentials)
            let message = error?.message ?? ""
            for fragment in [
                "environment: AWS_ACCESS_KEY_ID is not set", "web identity (environment)", "profile \"default\"",
                "container:", "EC2 instance metadata: disabled by AWS_EC2_METADATA_DISABLED",
            ] {
                #expect(message.contains(fragment), "\(fragment) missing from: \(message)")
            }
        }
    }

    @Test("an explicit profile is used even when environment keys are set")
    func explicitProfileBeatsEnvironment() async throws {
        let directory = try TemporaryDirectory()
        let credentials = try directory.write("credentials", "[chosen]\naws_access_key_id = PROFILE\naws_secret_access_key = p\n")
        try await withHTTPClient { client in
            let chain = DefaultCredentialChain.make(
                profile: "chosen",
                environment: [
                    "HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true", "AWS_SHARED_CREDENTIALS_FILE": credentials,
                    "AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "e",
                ],
                httpClient: client,
                logger: testLogger
            )
            let key = try await chain.credentials(logger: testLogger).accessKeyID
            #expect(key == "PROFILE")
        }
    }
}
