import DequeModule
import Foundation
import KinesisAggregation
import NIOCore
import Synchronization

extension KinesisLocal {
    /// A record as stored, or a user record unpacked from a stored KPL aggregate.
    public struct StoredRecord: Sendable, Hashable, Codable {
        public var shardID: String
        public var sequenceNumber: String
        /// The index inside its aggregate, when unpacked from one.
        public var subSequenceNumber: Int?
        public var partitionKey: String
        public var explicitHashKey: String?
        public var data: [UInt8]
        /// Unpacked from an aggregate that holds a record outside the shard's hash range: the KCL drops that
        /// aggregate whole (it landed on a shard its producer did not predict, during a reshard).
        public var droppedByKCL: Bool
    }

    /// Every record of `stream`, shard by shard in shard-id order (parents before children), each shard in
    /// sequence order, without going through GetRecords (and without its limits).
    ///
    /// With `deaggregate`, KPL aggregates are unpacked into their user records, flagged as the KCL reads them.
    /// `region` defaults to ``Configuration/region``.
    public func storedRecords(stream name: String, deaggregate: Bool = false, region: String? = nil) throws -> [StoredRecord] {
        try backend.storedRecords(stream: name, deaggregate: deaggregate, region: region)
    }
}

extension LocalBackend {
    func storedRecords(stream name: String, deaggregate: Bool, region: String?) throws -> [KinesisLocal.StoredRecord] {
        let shards = try state.withLock { state throws(AWSErrorReply) in
            let address = StreamAddress(region: region ?? state.defaultRegion, name: name)
            guard let stream = state.streams[address] else { throw state.notFound(address) }
            return stream.shards.sorted { $0.id < $1.id }
        }
        var result: [KinesisLocal.StoredRecord] = []
        for shard in shards {
            for stored in shard.records {
                let data = Data(base64Encoded: Data(stored.base64.readableBytesView)).map(Array.init) ?? []
                let sequenceNumber = LocalStream.sequenceNumber(shardOrdinal: shard.ordinal, counter: stored.counter)
                let plain = KinesisLocal.StoredRecord(
                    shardID: shard.id,
                    sequenceNumber: sequenceNumber,
                    partitionKey: stored.partitionKey,
                    data: data,
                    droppedByKCL: false
                )
                guard deaggregate else {
                    result.append(plain)
                    continue
                }
                let members: [KinesisAggregation.UserRecord]
                let dropped: Bool
                switch KinesisAggregation.consume(data, shardHashRange: shard.startingHashKey...shard.endingHashKey) {
                case .plain:
                    result.append(plain)
                    continue
                case .aggregate(let records): (members, dropped) = (records, false)
                case .dropped(let records): (members, dropped) = (records, true)
                }
                for (index, member) in members.enumerated() {
                    result.append(KinesisLocal.StoredRecord(
                        shardID: shard.id,
                        sequenceNumber: sequenceNumber,
                        subSequenceNumber: index,
                        partitionKey: member.partitionKey,
                        explicitHashKey: member.explicitHashKey,
                        data: member.data,
                        droppedByKCL: dropped
                    ))
                }
            }
        }
        return result
    }
}
