import HeapModule

extension RunnerStateMachine {
    /// Records backing off after a failed attempt, by the time they may go again: the earliest is known at once
    /// (the run loop sleeps until then) and taking the due ones costs nothing for the others.
    struct RetryQueue {
        private struct Entry: Comparable {
            var record: PendingRecord
            var due: ContinuousClock.Instant { record.notBefore ?? .now }
            static func < (a: Entry, b: Entry) -> Bool { (a.due, a.record.id) < (b.due, b.record.id) }
            static func == (a: Entry, b: Entry) -> Bool { a.record.id == b.record.id && a.due == b.due }
        }

        private var heap = Heap<Entry>()

        var count: Int { heap.count }
        var isEmpty: Bool { heap.isEmpty }

        /// `record.notBefore` says when it may go again.
        mutating func insert(_ record: PendingRecord) {
            precondition(record.notBefore != nil, "a retry needs its time")
            heap.insert(Entry(record: record))
        }

        /// When the earliest record becomes due.
        var nextDue: ContinuousClock.Instant? { heap.min?.due }

        /// Takes the records due at `now`, earliest first.
        mutating func popDue(now: ContinuousClock.Instant) -> [PendingRecord] {
            var due: [PendingRecord] = []
            while let first = heap.min, first.due <= now { due.append(heap.removeMin().record) }
            return due
        }

        mutating func removeAll() -> [PendingRecord] {
            defer { heap = Heap() }
            return heap.unordered.map(\.record)
        }

        /// Every record waiting, in no particular order (for gauges).
        var records: some Sequence<PendingRecord> { heap.unordered.lazy.map(\.record) }
    }
}
