extension RunnerStateMachine {
    /// An aggregate Kinesis stored on a shard the map did not predict (the stream was resharded since the map
    /// was listed). Whether its records are delivered depends on that shard's range, known once a map has it.
    struct LandedAggregate {
        var shardID: String
        var sequenceNumber: String
        var members: [PendingRecord]

        enum Verdict: Equatable {
            /// The shard owns every member's hash: a KCL consumer keeps the aggregate (a shard's range never
            /// changes).
            case deliver
            /// The shard does not own every member: the KCL drops the aggregate whole, so its records are packed
            /// again under the current map and nothing is duplicated.
            case resend
            /// The map does not know the shard yet.
            case unknownShard
        }

        /// The earliest time to live's end among its members.
        var deadline: ContinuousClock.Instant? { members.compactMap(\.deadline).min() }

        func verdict(in map: ShardMap?) -> Verdict {
            guard let range = map?.range(of: shardID) else { return .unknownShard }
            return members.allSatisfy { range.contains($0.hash) } ? .deliver : .resend
        }
    }
}
