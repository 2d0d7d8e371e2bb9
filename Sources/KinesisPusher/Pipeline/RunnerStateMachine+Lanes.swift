import DequeModule

extension RunnerStateMachine {
    /// The records ready to go, each in the lane of the shard the map predicts for it, so batch selection takes
    /// from the lanes that have budget and never touches the others.
    ///
    /// Lane `i` is the map's shard at position `i`; the last lane is stream-wide: every record while no map is
    /// known, and records whose hash falls into a gap of the map (a reshard in progress). Within a lane records
    /// keep their order: new ones at the back, retries and ordered-mode key heads at the front.
    ///
    /// In ordered mode the lanes also keep each partition key's records in one lane (``tracksKeys``): a key's
    /// records share a hash unless explicit hash keys differ, and records of one key in two lanes could leave out
    /// of order.
    struct Lanes {
        struct Lane {
            var records: Deque<PendingRecord> = []
            var bytes = 0
        }

        private(set) var lanes: [Lane] = [Lane()]
        private(set) var count = 0
        private(set) var bytes = 0
        /// Ordered mode: the lane holding each partition key's records, and how many.
        private var keyLanes: [Int: (lane: Int, count: Int)] = [:]
        let tracksKeys: Bool

        init(tracksKeys: Bool = false) {
            self.tracksKeys = tracksKeys
        }

        /// The lane for records without a predicted shard.
        var streamWide: Int { lanes.count - 1 }

        var isEmpty: Bool { count == 0 }

        /// The lane of a record with `hash` under `map`.
        static func lane(of hash: UInt128, in map: ShardMap?) -> Int {
            guard let map else { return 0 }
            return map.index(for: hash) ?? map.count
        }

        func first(in lane: Int) -> PendingRecord? { lanes[lane].records.first }

        /// Ordered mode: where a record of `key` must go if the key already has records in a lane.
        func lane(holding key: Int) -> Int? { keyLanes[key]?.lane }

        private mutating func counted(_ record: PendingRecord, in lane: Int, _ delta: Int) {
            count += delta
            bytes += delta * record.size
            lanes[lane].bytes += delta * record.size
            guard tracksKeys else { return }
            let key = record.orderingKey
            let held = keyLanes[key]?.count ?? 0
            keyLanes[key] = held + delta == 0 ? nil : (lane, held + delta)
        }

        func count(in lane: Int) -> Int { lanes[lane].records.count }

        func bytes(in lane: Int) -> Int { lanes[lane].bytes }

        mutating func append(_ record: PendingRecord, to lane: Int) {
            lanes[lane].records.append(record)
            counted(record, in: lane, 1)
        }

        mutating func prepend(_ record: PendingRecord, to lane: Int) {
            lanes[lane].records.prepend(record)
            counted(record, in: lane, 1)
        }

        mutating func removeFirst(from lane: Int) -> PendingRecord {
            let record = lanes[lane].records.removeFirst()
            counted(record, in: lane, -1)
            return record
        }

        /// Puts every record into its lane under `map` (one lane per shard, plus the stream-wide one). Each new
        /// lane holds its records in acceptance order, which keeps a partition key's records in order (in ordered
        /// mode a key's records follow its oldest one into its lane).
        mutating func relane(for map: ShardMap?) {
            var moved: [PendingRecord] = []
            moved.reserveCapacity(count)
            for lane in lanes { moved += lane.records }
            moved.sort { $0.id < $1.id }
            lanes = [Lane](repeating: Lane(), count: (map?.count ?? 0) + 1)
            count = 0
            bytes = 0
            keyLanes = [:]
            for record in moved {
                append(record, to: (tracksKeys ? lane(holding: record.orderingKey) : nil) ?? Self.lane(of: record.hash, in: map))
            }
        }

        /// Empties every lane; returns what they held, lane by lane.
        mutating func removeAll() -> [PendingRecord] {
            var all: [PendingRecord] = []
            all.reserveCapacity(count)
            for lane in lanes { all += lane.records }
            lanes = [Lane](repeating: Lane(), count: lanes.count)
            count = 0
            bytes = 0
            keyLanes = [:]
            return all
        }

        /// The lanes holding records, in order.
        var occupied: [Int] { lanes.indices.filter { !lanes[$0].records.isEmpty } }

        /// The earliest acceptance among the lanes' front records (each lane's oldest, up to retries put back).
        var oldestAcceptance: ContinuousClock.Instant? {
            lanes.compactMap { $0.records.first?.acceptedAt }.min()
        }
    }
}
