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

    @Test("nothing usable and the refresh failed: callers fail at once with its error until the backoff ends, then one fetch")
    func failFastDuringBackoff() async throws {
        let clock = ManualClock()
        let base = ScriptedProvider([.failure(failure), .success(identity("A", expiresAt: nil))])
        let cache = CachingCredentialProvider(base, logger: testLogger, now: { clock.now })
        await #expect(throws: CredentialProviderError.self) { try await cache.credentials(logger: testLogger) }
        for _ in 0..<10 {
            let error = await #expect(throws: CredentialProviderError.self) { try await cache.credentials(logger: testLogger) }
            #expect(error?.message == "the source is down")
        }
        #expect(base.callCount == 1, "callers within the backoff do not ask the failing source")
        #expect(cache.failedFetchCount == 1)
        clock.advance(1.01)  // the first backoff is 0.5 to 1 s
        #expect(try await cache.credentials(logger: testLogger).accessKeyID == "A", "no sticky error")
        #expect(base.callCount == 2)
    }

    @Test("fresh credentials already inside the refresh window are refreshed on a backoff, not on every call")
    func shortLivedCredentialsBackOff() async throws {
        let clock = ManualClock()
        // Every fetch brings credentials valid for 60 s: always inside the 300 s refresh window.
        let base = ScriptedProvider([.success(identity("A", expiresAt: clock.now + 60))])
        let cache = CachingCredentialProvider(base, refreshWindow: .seconds(300), logger: testLogger, now: { clock.now })
        for _ in 0..<20 { #expect(try await cache.credentials(logger: testLogger).accessKeyID == "A") }
        try await Task.sleep(for: .milliseconds(200))  // a refresh started by mistake would show by now
        #expect(base.callCount == 1)
        // The next refresh comes halfway to the end of their usable life: (60 − 10) / 2 = 25 s.
        clock.advance(24)
        _ = try await cache.credentials(logger: testLogger)
        try await Task.sleep(for: .milliseconds(200))
        #expect(base.callCount == 1)
        clock.advance(1.01)
        _ = try await cache.credentials(logger: testLogger)
        try await until { base.callCount == 2 }
        for _ in 0..<20 { _ = try await cache.credentials(logger: testLogger) }
        try await Task.sleep(for: .milliseconds(200))
        #expect(base.callCount == 2)
    }

    @Test("a caller waiting for a refresh leaves at once when cancelled; the refresh goes on for the others")
    func waitingCallerCancelled() async throws {
        let base = ScriptedProvider(delay: .seconds(1), [.success(identity("A", expiresAt: nil))])
        let cache = CachingCredentialProvider(base, logger: testLogger)
        let patient = Task { try await cache.credentials(logger: testLogger).accessKeyID }
        let impatient = Task { try await cache.credentials(logger: testLogger).accessKeyID }
        try await Task.sleep(for: .milliseconds(100))
        let cancelled = ContinuousClock.now
        impatient.cancel()
        await #expect(throws: CancellationError.self) { try await impatient.value }
        #expect(seconds(since: cancelled) < 0.5, "the cancelled caller did not wait for the 1 s fetch")
        #expect(try await patient.value == "A")
        #expect(base.callCount == 1)
    }

    @Test("a source that gave credentials before fails only transiently, whatever it says")
    func laterFailuresAreOutages() async throws {
        let clock = ManualClock()
        let refused = CredentialProviderError(.rejected, provider: "credential_process", message: "'vault-login' exited with status 1")
        let base = ScriptedProvider([.success(identity("A", expiresAt: clock.now + 60)), .failure(refused)])
        let first = CachingCredentialProvider(ScriptedProvider([.failure(refused)]), logger: testLogger, now: { clock.now })
        let error = await #expect(throws: CredentialProviderError.self) { try await first.credentials(logger: testLogger) }
        #expect(error?.isTransient == false, "a first fetch can fail for good")

        let cache = CachingCredentialProvider(base, logger: testLogger, now: { clock.now })
        _ = try await cache.credentials(logger: testLogger)
        clock.advance(120)
        let later = await #expect(throws: CredentialProviderError.self) { try await cache.credentials(logger: testLogger) }
        #expect(later?.isTransient == true)
        #expect(later?.message == "'vault-login' exited with status 1")
    }

    @Test("credentials that arrive already expired are a failure naming the source, not served")
    func arrivingExpired() async throws {
        let clock = ManualClock()
        let base = ScriptedProvider(name: "container", [.success(identity("A", expiresAt: clock.now + 5))])
        let cache = CachingCredentialProvider(base, expiryMargin: .seconds(10), logger: testLogger, now: { clock.now })
        let error = await #expect(throws: CredentialProviderError.self) { try await cache.credentials(logger: testLogger) }
        #expect(error?.provider == "container")
        #expect(error?.message.contains("too soon to sign with") == true)
        #expect(error?.isTransient == true)
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
