extension KinesisLocal {
    /// Counters of what the server took, per stream and shard (`GET /_admin/stats`).
    public struct Stats: Sendable, Hashable, Codable {
        /// Kinesis requests answered (all operations, errors included).
        public var requests: Int
        /// Requests answered `ExpiredTokenException` by the ``Faults/expiredTokenAfterRequests`` fault.
        public var expiredTokens: Int
        /// Counters by stream name, of the streams in ``Configuration/region``.
        public var streams: [String: StreamStats]
        /// Counters of every stream, by region and then name.
        public var regions: [String: [String: StreamStats]]

        /// One stream's counters.
        public struct StreamStats: Sendable, Hashable, Codable {
            /// Records stored since the stream was created.
            public var accepted: Int
            /// Bytes (data plus partition keys) stored since the stream was created.
            public var acceptedBytes: Int
            /// Records refused with `ProvisionedThroughputExceededException` (limits or injected).
            public var throttled: Int
            /// Records held now (after the retention cap).
            public var storedRecords: Int
            /// Open shards now.
            public var openShards: Int
            /// Every shard, open and closed.
            public var shards: [ShardStats]
        }

        /// One shard's counters.
        public struct ShardStats: Sendable, Hashable, Codable {
            /// The shard id.
            public var shardId: String
            /// Whether it takes writes.
            public var open: Bool
            /// Records stored in it since it opened.
            public var accepted: Int
            /// Records refused with ProvisionedThroughputExceededException.
            public var throttled: Int
            /// Records held now.
            public var storedRecords: Int
        }
    }
}

extension BackendState {
    var stats: KinesisLocal.Stats {
        var regions: [String: [String: KinesisLocal.Stats.StreamStats]] = [:]
        for (address, stream) in streams {
            regions[address.region, default: [:]][address.name] = KinesisLocal.Stats.StreamStats(
                accepted: stream.shards.reduce(0) { $0 + $1.accepted },
                acceptedBytes: stream.shards.reduce(0) { $0 + $1.acceptedBytes },
                throttled: stream.shards.reduce(0) { $0 + $1.throttled },
                storedRecords: stream.storedRecords,
                openShards: stream.openShardIndices.count,
                shards: stream.shards.map {
                    .init(shardId: $0.id, open: $0.isOpen, accepted: $0.accepted, throttled: $0.throttled, storedRecords: $0.records.count)
                }
            )
        }
        return KinesisLocal.Stats(
            requests: requestCount,
            expiredTokens: expiredTokenCount,
            streams: regions[defaultRegion] ?? [:],
            regions: regions
        )
    }
}
