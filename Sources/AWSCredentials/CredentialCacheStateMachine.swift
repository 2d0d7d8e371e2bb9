import AWSSigning
import Backoff
import Foundation

/// The pure decision logic of ``CachingCredentialProvider``: when to serve the cached identity, when to refresh in
/// the background, when callers must wait, and how to back off after a refresh that failed or brought credentials
/// that already need refreshing. No I/O, no clock.
struct CredentialCacheStateMachine {
    typealias Waiter = CheckedContinuation<AWSCredentialIdentity?, any Error>

    /// How long before expiry a background refresh starts.
    let refreshWindow: TimeInterval
    /// How long before expiry credentials count as expired (requests in flight need some validity left).
    let expiryMargin: TimeInterval

    private(set) var identity: AWSCredentialIdentity?
    private(set) var refreshing = false
    /// Callers waiting for the refresh under way, by the id they were given, so one can leave when cancelled.
    private var waiters: [Int: Waiter] = [:]
    /// Refreshes in a row that failed.
    private var consecutiveFailures = 0
    /// No refresh starts before this: after a failure, or after one that brought credentials already due.
    private(set) var retryNotBefore: Date?
    /// Why the last refresh failed, handed to callers that find nothing usable before the next refresh may start.
    private var lastFailure: (any Error)?
    /// 1 s, 2 s, 4 s … capped at 60 s after consecutive failures, so a failing source is not hammered.
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
        /// Nothing usable, and the last refresh failed too recently to try again: fail at once with its error,
        /// so callers retrying on their own backoff do not hammer the source.
        case fail(any Error)
    }

    mutating func request(now: Date) -> RequestAction {
        if let identity, isUsable(identity, now: now) {
            guard needsRefresh(identity, now: now) else { return .serve(identity) }
            if refreshing { return .serve(identity) }
            if let retryNotBefore, now < retryNotBefore { return .serve(identity) }
            refreshing = true
            return .serveAndRefresh(identity)
        }
        if refreshing { return .wait }
        if let lastFailure, let retryNotBefore, now < retryNotBefore { return .fail(lastFailure) }
        refreshing = true
        return .refreshAndWait
    }

    /// Puts a caller in line for the refresh under way; `false` when it is over already (the caller asks again).
    mutating func addWaiter(_ waiter: Waiter, id: Int) -> Bool {
        guard refreshing else { return false }
        waiters[id] = waiter
        return true
    }

    /// Takes a cancelled caller out of line; `nil` when it was woken already.
    mutating func removeWaiter(id: Int) -> Waiter? {
        waiters.removeValue(forKey: id)
    }

    /// Records a finished refresh; returns the callers to wake and what to hand them.
    mutating func refreshFinished(
        _ result: Result<AWSCredentialIdentity, any Error>,
        now: Date
    ) -> (waiters: [Waiter], result: Result<AWSCredentialIdentity, any Error>) {
        refreshing = false
        let woken = Array(waiters.values)
        waiters = [:]
        switch result {
        case .success(let fresh):
            identity = fresh
            lastFailure = nil
            consecutiveFailures = 0
            retryNotBefore = nil
            if needsRefresh(fresh, now: now), let expiration = fresh.expiration {
                // Fresh yet already due (short-lived or stale credentials): refresh again halfway to the end of
                // their usable life, not on every call.
                let usableFor = expiration.timeIntervalSince(now) - expiryMargin
                retryNotBefore = now.addingTimeInterval(max(1, usableFor / 2))
            }
            return (woken, result)
        case .failure(let error):
            lastFailure = error
            consecutiveFailures += 1
            // Between half the ceiling and the ceiling: spread out, yet never sooner than half.
            let ceiling = Self.refreshBackoff.ceiling(afterAttempt: consecutiveFailures).inSeconds
            retryNotBefore = now.addingTimeInterval(Double.random(in: ceiling / 2...ceiling, using: &jitter))
            // Callers that waited still get the old identity while it is usable: a transient failure is not fatal.
            if let identity, isUsable(identity, now: now) {
                return (woken, .success(identity))
            }
            return (woken, result)
        }
    }

    mutating func invalidate() {
        identity = nil
    }

    /// Whether `identity` may still sign requests: not within `expiryMargin` of its expiry.
    func isUsable(_ identity: AWSCredentialIdentity, now: Date) -> Bool {
        guard let expiration = identity.expiration else { return true }
        return expiration.timeIntervalSince(now) > expiryMargin
    }

    private func needsRefresh(_ identity: AWSCredentialIdentity, now: Date) -> Bool {
        guard let expiration = identity.expiration else { return false }
        return expiration.timeIntervalSince(now) <= refreshWindow
    }
}
