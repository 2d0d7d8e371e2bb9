import Synchronization

/// Counts the server's open connections, so one beyond ``KinesisLocal/Configuration/maxConnections`` is answered
/// ``refusal`` and closed instead of costing a file descriptor and buffers for as long as the client likes.
final class ConnectionLimiter: Sendable {
    let limit: Int
    private let open = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes a slot; `false` when all are taken (nothing is taken then).
    func acquire() -> Bool {
        if open.wrappingAdd(1, ordering: .relaxed).newValue <= limit { return true }
        open.wrappingSubtract(1, ordering: .relaxed)
        return false
    }

    /// The answer to a request on a connection over the limit.
    var refusal: AWSErrorReply {
        AWSErrorReply(
            status: 503,
            type: "ServiceUnavailableException",
            message: "KinesisLocal has its maximum of \(limit) connections open; try again once one closes."
        )
    }

    /// Gives back a slot taken by ``acquire()``.
    func release() {
        open.wrappingSubtract(1, ordering: .relaxed)
    }
}
