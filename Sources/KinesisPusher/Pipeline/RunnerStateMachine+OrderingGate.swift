import DequeModule

extension RunnerStateMachine {
    /// Ordered mode's bookkeeping: which partition keys are busy (a record in flight or backing off) and the
    /// records set aside behind them. A key's later records are parked until it is free, then come back oldest
    /// first as the key's heads (``PendingRecord/isKeyHead``), to go before everything else the key has.
    ///
    /// The gate only decides; the machine moves the heads it hands back to the front of their lane.
    struct OrderingGate {
        /// With aggregation a call may carry several records of a key (in one aggregate), so a free key lets an
        /// aggregate's worth of heads out at once; without it, one.
        let aggregated: Bool
        /// Records in flight or backing off, by key.
        private var busyKeys: [Int: Int] = [:]
        /// Per key, its parked records in acceptance order (ids grow with it).
        private var parked: [Int: Deque<PendingRecord>] = [:]
        private(set) var parkedCount = 0
        /// No parked record's time to live ends before this; it may be earlier than the real first deadline (a
        /// record unparked since), which costs one look that finds nothing.
        private(set) var earliestDeadline: ContinuousClock.Instant?
        /// Aggregated mode: per key, its heads not yet sent, failed or parked again, and the newest one's id. The
        /// waiting heads are the newest of those let out (heads leave from the front), so a parked record older
        /// than that id (a retry, a head parked again) must go before them, and one newer must wait behind them.
        /// Without aggregation a key has one head at a time and nothing lets another out before it leaves.
        private var waitingHeads: [Int: (count: Int, newest: UInt64)] = [:]

        /// Most heads let out at once in aggregated mode: an aggregate's worth. Moving a hot key's whole backlog
        /// to the front on every call would shuffle it over and over.
        static let aggregatedHeads = 512

        init(aggregated: Bool) {
            self.aggregated = aggregated
        }

        func isBusy(_ key: Int) -> Bool { busyKeys[key] != nil }

        /// The records of a new call hold back their keys' later records until they are done. Done after the call
        /// is packed, so a key's own records in the call do not block each other.
        mutating func hold(_ records: inout [PendingRecord]) {
            for index in records.indices {
                records[index].holdsKey = true
                busyKeys[records[index].orderingKey, default: 0] += 1
            }
        }

        /// The record no longer holds back its key's later records. `true` when it was the key's last one out:
        /// the key is free and its parked records may come back (``unpark(_:)``).
        mutating func release(_ record: inout PendingRecord) -> Bool {
            guard record.holdsKey else { return false }
            record.holdsKey = false
            let key = record.orderingKey
            if let count = busyKeys[key], count > 1 {
                busyKeys[key] = count - 1
                return false
            }
            busyKeys[key] = nil
            return true
        }

        /// A record waits behind its key's busy or parked records, unless it is the key's head.
        func mustPark(_ record: PendingRecord) -> Bool {
            busyKeys[record.orderingKey] != nil || (!record.isKeyHead && parked[record.orderingKey] != nil)
        }

        /// A head leaves the front of its lane (sent, failed or parked again).
        mutating func headLeft(_ record: inout PendingRecord) {
            guard record.isKeyHead else { return }
            record.isKeyHead = false
            guard aggregated, let waiting = waitingHeads[record.orderingKey] else { return }
            waitingHeads[record.orderingKey] = waiting.count > 1 ? (waiting.count - 1, waiting.newest) : nil
        }

        /// Sets aside a record whose key is busy (it already left its lane), in acceptance order: a head parked
        /// again goes back before newer records.
        mutating func park(_ record: PendingRecord) {
            var record = record
            headLeft(&record)
            parkedCount += 1
            if let deadline = record.deadline { earliestDeadline = min(earliestDeadline ?? deadline, deadline) }
            var waiting = parked.removeValue(forKey: record.orderingKey) ?? []
            if let last = waiting.last, last.id > record.id {
                let index = waiting.firstIndex { $0.id > record.id } ?? waiting.endIndex
                waiting.insert(record, at: index)
            } else {
                waiting.append(record)
            }
            parked[record.orderingKey] = waiting
        }

        /// Once `key` is free, its oldest parked records as its heads, oldest first (empty while the key is busy,
        /// has nothing parked, or in aggregated mode has heads waiting that are older than all its parked ones).
        mutating func unpark(_ key: Int) -> [PendingRecord] {
            guard busyKeys[key] == nil, var waiting = parked[key] else { return [] }
            var count = min(waiting.count, aggregated ? Self.aggregatedHeads : 1)
            // Heads still waiting in front: only parked records older than them may join them there.
            let waitingAhead = aggregated ? waitingHeads[key] : nil
            if let waitingAhead { count = min(count, waiting.prefix(count).prefix { $0.id < waitingAhead.newest }.count) }
            guard count > 0 else { return [] }
            var heads: [PendingRecord] = []
            heads.reserveCapacity(count)
            for _ in 0..<count {
                var record = waiting.removeFirst()
                record.isKeyHead = true
                heads.append(record)
            }
            parked[key] = waiting.isEmpty ? nil : waiting
            parkedCount -= count
            if aggregated {
                waitingHeads[key] = ((waitingAhead?.count ?? 0) + count, max(waitingAhead?.newest ?? 0, heads[heads.count - 1].id))
            }
            return heads
        }

        /// Takes every parked record (to fail them), in no particular order.
        mutating func removeAllParked() -> [PendingRecord] {
            defer {
                parked = [:]
                parkedCount = 0
                earliestDeadline = nil
            }
            return parked.values.flatMap { $0 }
        }

        /// Takes the parked records whose time to live is over (to fail them); the records behind them stay parked,
        /// in order. A key's parked records are in acceptance order, so their deadlines are too: only fronts are
        /// looked at, and only once ``earliestDeadline`` has come.
        mutating func removeExpired(now: ContinuousClock.Instant) -> [PendingRecord] {
            guard let earliest = earliestDeadline, earliest <= now else { return [] }
            var expired: [PendingRecord] = []
            var next: ContinuousClock.Instant?
            for key in Array(parked.keys) {
                guard var waiting = parked[key] else { continue }
                while let deadline = waiting.first?.deadline, deadline <= now { expired.append(waiting.removeFirst()) }
                parked[key] = waiting.isEmpty ? nil : waiting
                if let deadline = waiting.first?.deadline { next = min(next ?? deadline, deadline) }
            }
            parkedCount -= expired.count
            earliestDeadline = next
            return expired
        }

        /// When the longest-parked record was accepted.
        var oldestParkedAcceptance: ContinuousClock.Instant? {
            parked.values.compactMap { $0.first?.acceptedAt }.min()
        }
    }
}
