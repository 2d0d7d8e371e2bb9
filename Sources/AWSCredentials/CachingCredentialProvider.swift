import Backoff
import AWSSigning
import Foundation
import Logging
import Synchronization

/// Caches another provider's credentials until shortly before they expire.
///
/// Within `refreshWindow` of expiry, one background refresh starts while callers keep getting the cached,
/// still-usable identity; only when nothing usable is left do callers wait, and then all of them wait for the same
/// single refresh (each may leave it when cancelled; the refresh goes on for the others). A failed refresh is
/// logged and retried with jittered backoff (1 s doubling to 60 s) while the cached identity keeps serving; once it
/// has expired, callers between two tries fail at once with the last failure, so a producer waits out a credential
/// outage on its own backoff without hammering the source. Once a fetch has succeeded, every later failure of the
/// source counts as transient (``CredentialProviderError/isTransient``). There is no sticky error state.
public final class CachingCredentialProvider: CredentialProvider {
    public var name: String { base.name }
    private let base: any CredentialProvider
    private let state: Mutex<CredentialCacheStateMachine>
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let fetches = Atomic<Int>(0)
    private let failures = Atomic<Int>(0)
    private let failuresInARow = Atomic<Int>(0)
    private let waiterIDs = Atomic<Int>(0)

    /// How many times credentials were fetched from the underlying provider successfully (first fetch included).
    public var fetchCount: Int { fetches.load(ordering: .relaxed) }

    /// How many fetches from the underlying provider failed.
    public var failedFetchCount: Int { failures.load(ordering: .relaxed) }

    /// - Parameters:
    ///   - base: Where credentials come from.
    ///   - refreshWindow: How long before expiry to refresh in the background (default 5 minutes).
    ///   - expiryMargin: How long before expiry credentials are no longer handed out (default 10 seconds).
    ///   - logger: Where refresh failures are reported.
    ///   - now: The wall clock; replaceable in tests.
    ///   - jitterSeed: Seeds the jitter of the backoff after failed refreshes, so a test can replay it; `nil`
    ///     (the default) seeds it from the system.
    public init(
        _ base: any CredentialProvider,
        refreshWindow: Duration = .seconds(300),
        expiryMargin: Duration = .seconds(10),
        logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() },
        jitterSeed: UInt64? = nil
    ) {
        self.base = base
        self.state = Mutex(
            CredentialCacheStateMachine(
                refreshWindow: refreshWindow.inSeconds,
                expiryMargin: expiryMargin.inSeconds,
                jitterSeed: jitterSeed
            )
        )
        self.now = now
        self.logger = logger
    }

    public func credentials(logger: Logger) async throws -> AWSCredentialIdentity {
        while true {
            switch state.withLock({ $0.request(now: now()) }) {
            case .serve(let identity):
                return identity
            case .serveAndRefresh(let identity):
                startRefresh(logger: logger)
                return identity
            case .fail(let error):
                throw error
            case .refreshAndWait:
                startRefresh(logger: logger)
            case .wait:
                break
            }
            if let identity = try await waitForRefresh() { return identity }
        }
    }

    public func invalidate() {
        state.withLock { $0.invalidate() }
        base.invalidate()
    }

    /// The refresh runs in a task of its own, so a caller's cancellation never cuts it short for the others.
    private func startRefresh(logger: Logger) {
        Task { await self.refresh(logger: logger) }
    }

    /// Waits for the refresh under way; `nil` when it finished before this caller got in line (ask again).
    private func waitForRefresh() async throws -> AWSCredentialIdentity? {
        let id = waiterIDs.add(1, ordering: .relaxed).newValue
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (waiter: CredentialCacheStateMachine.Waiter) in
                guard state.withLock({ $0.addWaiter(waiter, id: id) }) else {
                    waiter.resume(returning: nil)
                    return
                }
                // Cancelled before getting in line: the handler below found nobody to wake.
                if Task.isCancelled, let waiter = state.withLock({ $0.removeWaiter(id: id) }) {
                    waiter.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            state.withLock { $0.removeWaiter(id: id) }?.resume(throwing: CancellationError())
        }
    }

    private func refresh(logger: Logger) async {
        let result: Result<AWSCredentialIdentity, any Error>
        do {
            let identity = try await base.credentials(logger: logger)
            if let expiration = identity.expiration, !state.withLock({ $0.isUsable(identity, now: now()) }) {
                throw CredentialProviderError(
                    .fetchFailed,
                    provider: base.name,
                    message: "handed out credentials that expire at \(expiration), too soon to sign with"
                )
            }
            result = .success(identity)
            let fetched = fetches.add(1, ordering: .relaxed).newValue
            let failedBefore = failuresInARow.exchange(0, ordering: .relaxed)
            if failedBefore > 0 {
                // As loud as the failures were, so the end of an outage is in the same log.
                logger.warning(
                    "credentials fetched again after \(failedBefore) failed attempts",
                    metadata: ["aws.credentials.provider": "\(base.name)"]
                )
            }
            logger.log(
                level: fetched == 1 ? .debug : .info,
                fetched == 1 ? "credentials fetched" : "credentials refreshed",
                metadata: [
                    "aws.credentials.provider": "\(base.name)", "aws.access_key_id": "\(identity.accessKeyID.prefix(4))…\(identity.accessKeyID.suffix(4))",
                    "aws.credentials.expiration": "\(identity.expiration.map { "\($0)" } ?? "never")",
                ]
            )
        } catch {
            result = .failure(fetches.load(ordering: .relaxed) > 0 ? Self.outage(error) : error)
            failures.add(1, ordering: .relaxed)
            failuresInARow.add(1, ordering: .relaxed)
        }
        let (waiters, outcome, retryNotBefore, cached) = state.withLock { state in
            let (waiters, outcome) = state.refreshFinished(result, now: now())
            return (waiters, outcome, state.retryNotBefore, state.identity.map { state.isUsable($0, now: now()) } ?? false)
        }
        // A failure that is not transient can only be a first fetch's (later ones count as outages): its callers get
        // the error itself, so it is not logged twice.
        if case .failure(let error) = result, (error as? CredentialProviderError)?.isTransient == true {
            logger.warning(
                cached
                    ? "credential refresh failed; the cached credentials serve until they expire"
                    : "credential refresh failed; no usable credentials until a refresh succeeds",
                metadata: [
                    "aws.credentials.provider": "\(base.name)", "error": "\(error)",
                    "aws.credentials.retry_in_s": "\(retryNotBefore.map { Int(max(0, $0.timeIntervalSince(now())).rounded(.up)) } ?? 0)",
                ]
            )
        }
        for waiter in waiters { waiter.resume(with: outcome.map { Optional($0) }) }
    }

    /// A failure of a source that gave credentials before is an outage to wait out, whatever it says: its
    /// configuration was right then (instance metadata that stops answering reads as "not configured", a
    /// `credential_process` whose backend is down exits non-zero). Only a first fetch can fail for good.
    static func outage(_ error: any Error) -> any Error {
        guard var error = error as? CredentialProviderError, !error.isTransient else { return error }
        error.code = .fetchFailed
        return error
    }
}

