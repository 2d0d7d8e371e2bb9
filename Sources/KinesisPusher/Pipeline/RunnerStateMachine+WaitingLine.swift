import DequeModule

extension RunnerStateMachine {
    /// Callers suspended in `send` or `put` until there is room, first come first served, each leaving in
    /// constant time when its task is cancelled (a line of thousands of blocked senders is normal under
    /// backpressure, and a linear search per cancellation would make a cancelled service quadratic).
    struct WaitingLine {
        private var order: Deque<UInt64> = []
        private var waiters: [UInt64: Waiter] = [:]

        var count: Int { waiters.count }
        var isEmpty: Bool { waiters.isEmpty }

        mutating func append(_ waiter: Waiter) {
            order.append(waiter.record.id)
            waiters[waiter.record.id] = waiter
        }

        /// The longest-waiting caller still in line.
        mutating func first() -> Waiter? {
            while let id = order.first {
                if let waiter = waiters[id] { return waiter }
                order.removeFirst()  // cancelled earlier
            }
            return nil
        }

        mutating func popFirst() -> Waiter? {
            guard let waiter = first() else { return nil }
            order.removeFirst()
            waiters[waiter.record.id] = nil
            return waiter
        }

        /// Takes the caller waiting with record `id` out of the line; `nil` when it already left.
        mutating func cancel(id: UInt64) -> Waiter? {
            guard let waiter = waiters.removeValue(forKey: id) else { return nil }
            if waiters.isEmpty { order.removeAll(keepingCapacity: true) }
            return waiter
        }
    }
}
