/// Ordered mode: a partition key's records reach Kinesis in the order they were sent. The ``OrderingGate``
/// decides which records wait; these put its heads at the front of their lane.
extension RunnerStateMachine {
    /// The records of a new call hold back their keys' later records (ordered mode only).
    mutating func holdKeys(_ records: inout [PendingRecord]) {
        guard limits.ordered else { return }
        ordering.hold(&records)
    }

    /// The record no longer holds back its key's later records; when it was the key's last one out, the key's
    /// parked records go back to the front of its lane (unless `unparks` is false: the caller does it later).
    mutating func releaseKey(_ record: inout PendingRecord, unparks: Bool = true) {
        if ordering.release(&record), unparks { unpark(record.orderingKey) }
    }

    func mustPark(_ record: PendingRecord) -> Bool { ordering.mustPark(record) }

    mutating func headLeft(_ record: inout PendingRecord) { ordering.headLeft(&record) }

    mutating func park(_ record: PendingRecord) { ordering.park(record) }

    /// Once `key` is free, its oldest parked records go to the front of its lane, oldest first.
    mutating func unpark(_ key: Int) {
        let heads = ordering.unpark(key)
        guard let first = heads.first else { return }
        let lane = lane(for: first)
        for record in heads.reversed() { lanes.prepend(record, to: lane) }
    }
}
