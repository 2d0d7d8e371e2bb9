import DequeModule
import Foundation
import KinesisAPI
import NIOCore

extension BackendState {
    mutating func getShardIterator(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let now = context.now
        let address = try existingStream(try p.string("StreamName"), arn: try p.string("StreamARN"), in: context)
        streams[address]?.trimExpired(now: now)
        let shardID = try p.required("ShardId", p.string)
        let shard = try existingShard(shardID, of: address)
        let after = try startingPosition(
            type: try p.string("ShardIteratorType") ?? "",
            sequenceNumber: try p.string("StartingSequenceNumber"),
            timestamp: try p.double("Timestamp"),
            shard: shard,
            of: address,
            operation: "GetShardIterator"
        )
        var writer = JSONObjectWriter()
        writer.field("ShardIterator", ShardIteratorToken(region: address.region, stream: address.name, shard: shardID, after: after, issuedAt: now).token)
        return writer.finish()
    }

    func existingShard(_ shardID: String, of address: StreamAddress) throws(AWSErrorReply) -> LocalShard {
        guard let shard = streams[address]!.shards.first(where: { $0.id == shardID }) else {
            throw AWSErrorReply(
                status: 400,
                type: "ResourceNotFoundException",
                message: "Shard \(shardID) in stream \(address.name) under account \(account) does not exist"
            )
        }
        return shard
    }

    /// Where reading starts, as the counter after which records are read: GetShardIterator's ShardIteratorType and
    /// SubscribeToShard's StartingPosition take the same five types.
    func startingPosition(
        type: String,
        sequenceNumber: String?,
        timestamp: Double?,
        shard: LocalShard,
        of address: StreamAddress,
        operation: String
    ) throws(AWSErrorReply) -> UInt64 {
        let stream = streams[address]!
        switch type {
        case "TRIM_HORIZON":
            return 0
        case "LATEST":
            return stream.nextCounter - 1
        case "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER":
            guard let text = sequenceNumber, let counter = LocalStream.counter(fromSequenceNumber: text) else {
                throw .invalidArgument("StartingSequenceNumber is missing or not a sequence number of this stream.")
            }
            // Only a number this shard could have issued: its ordinal, and for AT a counter from 1 on (0 would
            // underflow; AFTER 0 is the position before every record, which SubscribeToShard hands out).
            let shardDigits = LocalStream.sequenceNumber(shardOrdinal: shard.ordinal, counter: 1).prefix(8)
            guard counter > 0 || type == "AFTER_SEQUENCE_NUMBER", text.prefix(8) == shardDigits else {
                throw .invalidArgument(
                    "StartingSequenceNumber \(text) used in \(operation) on shard \(shard.id) in stream \(address.name) under account \(account) is invalid because it did not come from this stream."
                )
            }
            return type == "AT_SEQUENCE_NUMBER" ? counter - 1 : counter
        case "AT_TIMESTAMP":
            guard let timestamp else {
                throw .invalidArgument("Timestamp is required with AT_TIMESTAMP.")
            }
            return (shard.records.first { $0.arrival >= timestamp }?.counter).map { $0 - 1 } ?? stream.nextCounter - 1
        default:
            throw .validation(
                "1 validation error detected: Value '\(type)' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]"
            )
        }
    }

    mutating func getRecords(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let now = context.now
        guard let text = try p.string("ShardIterator"), let iterator = ShardIteratorToken(token: text), iterator.region == context.region else {
            throw .invalidArgument("Invalid ShardIterator.")
        }
        guard now - iterator.issuedAt <= 300 else {
            throw AWSErrorReply(
                status: 400,
                type: "ExpiredIteratorException",
                message: "Iterator expired. The iterator was created at time \(Date(timeIntervalSince1970: iterator.issuedAt)) while right now it is \(Date(timeIntervalSince1970: now)) which is further in the future than the tolerated delay of 300000 milliseconds."
            )
        }
        let address = StreamAddress(region: iterator.region, name: iterator.stream)
        streams[address]?.trimExpired(now: now)
        guard let stream = streams[address] else { throw notFound(address) }
        guard let shard = stream.shards.first(where: { $0.id == iterator.shard }) else {
            throw AWSErrorReply(status: 400, type: "ResourceNotFoundException", message: "Shard \(iterator.shard) not found.")
        }
        let limit = try p.int("Limit") ?? 10_000
        guard (1...10_000).contains(limit) else {
            throw .validation("1 validation error detected: Value '\(limit)' at 'limit' failed to satisfy constraint: Member must have value between 1 and 10000")
        }
        var response = ByteBuffer()
        response.writeStaticString("{")
        let read = Self.writeRecords(of: shard, after: iterator.after, limit: limit, maxBytes: 10 << 20, encrypted: stream.encryptionType == "KMS", now: now, into: &response)
        if shard.isOpen || !read.drained {
            response.writeStaticString(",\"NextShardIterator\":")
            response.writeJSONString(ShardIteratorToken(region: iterator.region, stream: iterator.stream, shard: iterator.shard, after: read.last, issuedAt: now).token)
        } else {
            Self.writeChildShards(of: shard, in: stream, into: &response)
        }
        response.writeStaticString(",\"MillisBehindLatest\":")
        response.writeString(String(read.millisBehind))
        response.writeInteger(UInt8(ascii: "}"))
        return response
    }

    /// What ``writeRecords(of:after:limit:maxBytes:encrypted:now:into:)`` read: the last counter, whether the shard
    /// has nothing after it, and how far behind its newest record the read stopped.
    struct RecordsRead {
        var last: UInt64
        var count: Int
        var drained: Bool
        var millisBehind: Int
    }

    /// Writes `"Records":[…]` with the records after counter `after`, at most `limit` and about `maxBytes` of data
    /// (one record always): GetRecords' answer and SubscribeToShard's events alike.
    static func writeRecords(
        of shard: LocalShard,
        after: UInt64,
        limit: Int,
        maxBytes: Int,
        encrypted: Bool,
        now: Double,
        into response: inout ByteBuffer
    ) -> RecordsRead {
        // Counters grow along the deque: binary search for the first record after the position.
        var low = shard.records.startIndex
        var high = shard.records.endIndex
        while low < high {
            let mid = (low + high) / 2
            if shard.records[mid].counter <= after { low = mid + 1 } else { high = mid }
        }
        var last = after
        var bytes = 0
        var index = low
        response.writeStaticString("\"Records\":[")
        while index < shard.records.endIndex, index - low < limit {
            let record = shard.records[index]
            if bytes > 0 && bytes + record.dataLength > maxBytes { break }
            if index > low { response.writeInteger(UInt8(ascii: ",")) }
            response.writeStaticString("{\"SequenceNumber\":\"")
            LocalStream.writeSequenceNumber(shardOrdinal: shard.ordinal, counter: record.counter, into: &response)
            response.writeStaticString("\",\"ApproximateArrivalTimestamp\":")
            response.writeString(String(record.arrival))
            response.writeStaticString(",\"Data\":\"")
            response.writeImmutableBuffer(record.base64)
            response.writeStaticString("\",\"PartitionKey\":")
            response.writeJSONString(record.partitionKey)
            if encrypted { response.writeStaticString(",\"EncryptionType\":\"KMS\"") }
            response.writeInteger(UInt8(ascii: "}"))
            bytes += record.dataLength
            last = record.counter
            index += 1
        }
        response.writeInteger(UInt8(ascii: "]"))
        let drained = index == shard.records.endIndex
        let behind = drained ? 0 : Int(max(0, now - shard.records[index].arrival) * 1000)
        return RecordsRead(last: last, count: index - low, drained: drained, millisBehind: behind)
    }

    /// `,"ChildShards":[…]`: what a reader of a closed, drained shard goes on with.
    static func writeChildShards(of shard: LocalShard, in stream: LocalStream, into response: inout ByteBuffer) {
        let children = stream.shards.filter { $0.parentID == shard.id || $0.adjacentParentID == shard.id }
        var writer = JSONObjectWriter()
        writer.field("ChildShards", objects: children) { child, object in
            object.field("ShardId", child.id)
            object.field("ParentShards", strings: [child.parentID, child.adjacentParentID].compactMap { $0 })
            object.field("HashKeyRange") { range in
                range.field("StartingHashKey", String(child.startingHashKey))
                range.field("EndingHashKey", String(child.endingHashKey))
            }
        }
        var member = writer.finish()
        // Splice the ChildShards member into the answer (drop the wrapper's braces).
        member.moveReaderIndex(forwardBy: 1)
        member.moveWriterIndex(to: member.writerIndex - 1)
        response.writeInteger(UInt8(ascii: ","))
        response.writeBuffer(&member)
    }
}

/// A shard iterator: which stream and shard, and the counter after which reading resumes.
struct ShardIteratorToken: OpaqueToken {
    var region: String
    var stream: String
    var shard: String
    var after: UInt64
    var issuedAt: Double
}
