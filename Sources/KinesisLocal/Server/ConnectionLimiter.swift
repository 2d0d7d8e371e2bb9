import Synchronization

/// Counts the server's open connections, so one beyond ``KinesisLocal/Configuration/maxConnections`` is closed
/// as soon as it is accepted instead of costing a file descriptor and buffers for as long as the client likes.
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

    /// Gives back a slot taken by ``acquire()``.
    func release() {
        open.wrappingSubtract(1, ordering: .relaxed)
    }
}

/// Thrown from the child channel initializer to make the server bootstrap close a connection over the limit.
struct ConnectionLimitReached: Error {}
