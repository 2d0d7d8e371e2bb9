import AWSSigning
import Backoff
import Foundation

/// The pure decision logic of ``CachingCredentialProvider``: when to serve the cached identity, when to refresh in
/// the background, when callers must wait, and how to back off after a failed refresh. No I/O, no clock.
struct CredentialCacheStateMachine {
    /// How long before expiry a background refresh starts.
    let refreshWindow: TimeInterval
    /// How long before expiry credentials count as expired (requests in flight need some validity left).
    let expiryMargin: TimeInterval

    private(set) var identity: AWSCredentialIdentity?
    private(set) var refreshing = false
    private var waiters: [CheckedContinuation<AWSCredentialIdentity, any Error>] = []
    private var consecutiveFailures = 0
    private var retryNotBefore: Date?
    /// 1 s, 2 s, 4 s … capped at 60 s after consecutive failed refreshes, so a failing source is not hammered.
    private static let refreshBackoff = ExponentialBackoff(base: .seconds(1), cap: .seconds(60))
    /// Draws the jitter of that backoff; seeded so a test can replay it.
    private var jitter: SplitMix64

    init(refreshWindow: TimeInterval, expiryMargin: TimeInterval, jitterSeed: UInt64? = nil) {
        self.refreshWindow = refreshWindow
        self.expiryMargin = expiryMargin
        self.jitter = SplitMix64(seed: jitterSeed)
    }

    enum RequestAction {
        /// Serve this identity.
        case serve(AWSCredentialIdentity)
        /// Serve this identity and start a background refresh.
        case serveAndRefresh(AWSCredentialIdentity)
        /// Nothing usable: start a refresh and wait for it.
        case refreshAndWait
        /// A refresh is already under way: wait for it.
        case wait
    }

    mutating func request(now: Date) -> RequestAction {
        if let identity, !isExpired(identity, now: now) {
            guard let expiration = identity.expiration, expiration.timeIntervalSince(now) <= refreshWindow else {
                return .serve(identity)
            }
            if refreshing { return .serve(identity) }
            if let retryNotBefore, now < retryNotBefore { return .serve(identity) }
            refreshing = true
            return .serveAndRefresh(identity)
        }
        if refreshing { return .wait }
        refreshing = true
        return .refreshAndWait
    }

    mutating func addWaiter(_ continuation: CheckedContinuation<AWSCredentialIdentity, any Error>) -> Bool {
        guard refreshing else { return false }
        waiters.append(continuation)
        return true
    }

    /// Records a finished refresh; returns the callers to wake and what to hand them.
    mutating func refreshFinished(
        _ result: Result<AWSCredentialIdentity, any Error>,
        now: Date
    ) -> (waiters: [CheckedContinuation<AWSCredentialIdentity, any Error>], result: Result<AWSCredentialIdentity, any Error>) {
        refreshing = false
        let woken = waiters
        waiters = []
        switch result {
        case .success(let identity):
            self.identity = identity
            consecutiveFailures = 0
            retryNotBefore = nil
            return (woken, result)
        case .failure:
            consecutiveFailures += 1
            // Between half the ceiling and the ceiling: spread out, yet never sooner than half.
            let ceiling = Self.refreshBackoff.ceiling(afterAttempt: consecutiveFailures).inSeconds
            retryNotBefore = now.addingTimeInterval(Double.random(in: ceiling / 2...ceiling, using: &jitter))
            // Callers that waited still get the old identity while it is valid: a transient failure is not fatal.
            if let identity, !isExpired(identity, now: now) {
                return (woken, .success(identity))
            }
            return (woken, result)
        }
    }

    mutating func invalidate() {
        identity = nil
    }

    private func isExpired(_ identity: AWSCredentialIdentity, now: Date) -> Bool {
        guard let expiration = identity.expiration else { return false }
        return expiration.timeIntervalSince(now) <= expiryMargin
    }
}
