import DequeModule

/// Ordered mode: a partition key's records reach Kinesis in the order they were sent. A key with a record in
/// flight or backing off is busy; its later records are parked until it is free, then go to the front of their
/// lane as the key's heads.
extension ProducerStateMachine {
    /// Ordered mode: the records of a new call hold back their keys' later records until they are done. Done
    /// after the call is packed, so a key's own records in the call do not block each other.
    mutating func holdKeys(_ records: inout [PendingRecord]) {
        guard limits.ordered else { return }
        for index in records.indices {
            records[index].holdsKey = true
            busyKeys[records[index].orderingKey, default: 0] += 1
        }
    }

    /// Ordered mode: the record no longer holds back its key's later records; when it was the key's last one
    /// out, the key's parked records go back to the front of its lane.
    mutating func releaseKey(_ record: inout PendingRecord, unparks: Bool = true) {
        guard record.holdsKey else { return }
        record.holdsKey = false
        let key = record.orderingKey
        if let count = busyKeys[key], count > 1 {
            busyKeys[key] = count - 1
            return
        }
        busyKeys[key] = nil
        if unparks { unpark(key) }
    }

    /// Ordered mode: a record waits behind its key's busy or parked records, unless it is the key's head.
    func mustPark(_ record: PendingRecord) -> Bool {
        busyKeys[record.orderingKey] != nil || (!record.isKeyHead && parked[record.orderingKey] != nil)
    }

    /// Ordered mode: a head leaves the front of its lane (sent, failed or parked again).
    mutating func headLeft(_ record: inout PendingRecord) {
        guard record.isKeyHead else { return }
        record.isKeyHead = false
        guard limits.aggregation != nil, let waiting = waitingHeads[record.orderingKey] else { return }
        waitingHeads[record.orderingKey] = waiting.count > 1 ? (waiting.count - 1, waiting.newest) : nil
    }

    /// Ordered mode: sets aside a record whose key is busy (it already left its lane).
    /// Kept in acceptance order (ids grow with it): a head parked again goes back before newer records.
    mutating func park(_ record: PendingRecord) {
        var record = record
        headLeft(&record)
        parkedCount += 1
        var waiting = parked.removeValue(forKey: record.orderingKey) ?? []
        if let last = waiting.last, last.id > record.id {
            let index = waiting.firstIndex { $0.id > record.id } ?? waiting.endIndex
            waiting.insert(record, at: index)
        } else {
            waiting.append(record)
        }
        parked[record.orderingKey] = waiting
    }

    /// Ordered mode: once `key` is free, its oldest parked records go to the front of its lane as its heads:
    /// one without aggregation (a call carries one record per key), an aggregate's worth with it. Moving them
    /// all would shuffle a hot key's whole backlog on every call.
    mutating func unpark(_ key: Int) {
        guard busyKeys[key] == nil, var waiting = parked[key] else { return }
        var count = min(waiting.count, limits.aggregation == nil ? 1 : 512)
        // Heads still waiting in front: only parked records older than them may join them there.
        let waitingAhead = limits.aggregation == nil ? nil : waitingHeads[key]
        if let waitingAhead { count = min(count, waiting.prefix(count).prefix { $0.id < waitingAhead.newest }.count) }
        guard count > 0 else { return }
        var heads: [PendingRecord] = []
        heads.reserveCapacity(count)
        for _ in 0..<count {
            var record = waiting.removeFirst()
            record.isKeyHead = true
            heads.append(record)
        }
        parked[key] = waiting.isEmpty ? nil : waiting
        parkedCount -= count
        if limits.aggregation != nil {
            waitingHeads[key] = ((waitingAhead?.count ?? 0) + count, max(waitingAhead?.newest ?? 0, heads[heads.count - 1].id))
        }
        let lane = lane(for: heads[0])
        for record in heads.reversed() { lanes.prepend(record, to: lane) }
    }

}
