import Backoff
import AWSSigning
import Foundation
import Logging
import Synchronization

/// Caches another provider's credentials until shortly before they expire.
///
/// Within `refreshWindow` of expiry, one background refresh starts while callers keep getting the cached,
/// still-valid identity; only when nothing valid is left do callers wait, and then all of them wait for the same
/// single refresh. A failed refresh is logged and retried with backoff while the cached identity keeps serving
/// until it expires; there is no sticky error state.
public final class CachingCredentialProvider: CredentialProvider {
    public var name: String { base.name }
    private let base: any CredentialProvider
    private let state: Mutex<CredentialCacheStateMachine>
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let fetches = Atomic<Int>(0)

    /// How many times credentials were fetched from the underlying provider successfully (first fetch included).
    public var fetchCount: Int { fetches.load(ordering: .relaxed) }

    /// - Parameters:
    ///   - base: Where credentials come from.
    ///   - refreshWindow: How long before expiry to refresh in the background (default 5 minutes).
    ///   - expiryMargin: How long before expiry credentials are no longer handed out (default 10 seconds).
    ///   - logger: Where background refresh failures are reported.
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
        switch state.withLock({ $0.request(now: now()) }) {
        case .serve(let identity):
            return identity
        case .serveAndRefresh(let identity):
            Task {
                do {
                    _ = try await self.refresh(logger: logger)
                } catch {
                    logger.warning(
                        "background credential refresh failed; cached credentials keep serving until they expire",
                        metadata: ["aws.credentials.provider": "\(self.base.name)", "error": "\(error)"]
                    )
                }
            }
            return identity
        case .refreshAndWait:
            return try await refresh(logger: logger)
        case .wait:
            return try await withCheckedThrowingContinuation { continuation in
                let added = state.withLock { $0.addWaiter(continuation) }
                if !added {
                    // The refresh finished between the two locks: ask again.
                    Task {
                        do { continuation.resume(returning: try await self.credentials(logger: logger)) } catch {
                            continuation.resume(throwing: error)
                        }
                    }
                }
            }
        }
    }

    public func invalidate() {
        state.withLock { $0.invalidate() }
        base.invalidate()
    }

    private func refresh(logger: Logger) async throws -> AWSCredentialIdentity {
        let result: Result<AWSCredentialIdentity, any Error>
        do {
            let identity = try await base.credentials(logger: logger)
            result = .success(identity)
            let fetched = fetches.add(1, ordering: .relaxed).newValue
            logger.log(
                level: fetched == 1 ? .debug : .info,
                fetched == 1 ? "credentials fetched" : "credentials refreshed",
                metadata: [
                    "aws.credentials.provider": "\(base.name)", "aws.access_key_id": "\(identity.accessKeyID.prefix(4))…\(identity.accessKeyID.suffix(4))",
                    "aws.credentials.expiration": "\(identity.expiration.map { "\($0)" } ?? "never")",
                ]
            )
        } catch {
            result = .failure(error)
        }
        let (waiters, outcome) = state.withLock { $0.refreshFinished(result, now: now()) }
        for waiter in waiters { waiter.resume(with: outcome) }
        return try outcome.get()
    }
}
