import DequeModule
import Foundation
import KinesisAPI
import NIOCore

extension BackendState {
    mutating func getShardIterator(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let now = context.now
        let address = try existingStream(try p.string("StreamName"), arn: try p.string("StreamARN"), in: context)
        let name = address.name
        streams[address]?.trimExpired(now: now)
        let stream = streams[address]!
        guard let shardID = try p.string("ShardId") else {
            throw .validation("1 validation error detected: Value null at 'shardId' failed to satisfy constraint: Member must not be null")
        }
        guard let shard = stream.shards.first(where: { $0.id == shardID }) else {
            throw AWSErrorReply(
                status: 400,
                type: "ResourceNotFoundException",
                message: "Shard \(shardID) in stream \(name) under account \(account) does not exist"
            )
        }
        let type = try p.string("ShardIteratorType") ?? ""
        let after: UInt64
        switch type {
        case "TRIM_HORIZON":
            after = 0
        case "LATEST":
            after = stream.nextCounter - 1
        case "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER":
            guard let text = try p.string("StartingSequenceNumber"), let counter = LocalStream.counter(fromSequenceNumber: text) else {
                throw .invalidArgument("StartingSequenceNumber is missing or not a sequence number of this stream.")
            }
            // Only a number this shard could have issued: its ordinal, and a counter from 1 on (0 would underflow).
            let shardDigits = LocalStream.sequenceNumber(shardOrdinal: shard.ordinal, counter: 1).prefix(8)
            guard counter > 0, text.prefix(8) == shardDigits else {
                throw .invalidArgument(
                    "StartingSequenceNumber \(text) used in GetShardIterator on shard \(shardID) in stream \(name) under account \(account) is invalid because it did not come from this stream."
                )
            }
            after = type == "AT_SEQUENCE_NUMBER" ? counter - 1 : counter
        case "AT_TIMESTAMP":
            guard let timestamp = try p.double("Timestamp") else {
                throw .invalidArgument("Timestamp is required with AT_TIMESTAMP.")
            }
            after = (shard.records.first { $0.arrival >= timestamp }?.counter).map { $0 - 1 } ?? stream.nextCounter - 1
        default:
            throw .validation(
                "1 validation error detected: Value '\(type)' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]"
            )
        }
        var writer = JSONObjectWriter()
        writer.field("ShardIterator", ShardIteratorToken(region: address.region, stream: name, shard: shardID, after: after, issuedAt: now).token)
        return writer.finish()
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
        // Counters grow along the deque: binary search for the first record after the iterator.
        var low = shard.records.startIndex
        var high = shard.records.endIndex
        while low < high {
            let mid = (low + high) / 2
            if shard.records[mid].counter <= iterator.after { low = mid + 1 } else { high = mid }
        }
        var last = iterator.after
        var bytes = 0
        var index = low
        var response = ByteBuffer()
        response.writeStaticString("{\"Records\":[")
        while index < shard.records.endIndex, index - low < limit {
            let record = shard.records[index]
            if bytes > 0 && bytes + record.dataLength > 10 * 1024 * 1024 { break }
            if index > low { response.writeInteger(UInt8(ascii: ",")) }
            response.writeStaticString("{\"SequenceNumber\":\"")
            LocalStream.writeSequenceNumber(shardOrdinal: shard.ordinal, counter: record.counter, into: &response)
            response.writeStaticString("\",\"ApproximateArrivalTimestamp\":")
            response.writeString(String(record.arrival))
            response.writeStaticString(",\"Data\":\"")
            response.writeImmutableBuffer(record.base64)
            response.writeStaticString("\",\"PartitionKey\":")
            response.writeJSONString(record.partitionKey)
            if stream.encryptionType == "KMS" { response.writeStaticString(",\"EncryptionType\":\"KMS\"") }
            response.writeInteger(UInt8(ascii: "}"))
            bytes += record.dataLength
            last = record.counter
            index += 1
        }
        response.writeInteger(UInt8(ascii: "]"))
        let drained = index == shard.records.endIndex
        if shard.isOpen || !drained {
            response.writeStaticString(",\"NextShardIterator\":")
            response.writeJSONString(ShardIteratorToken(region: iterator.region, stream: iterator.stream, shard: iterator.shard, after: last, issuedAt: now).token)
        } else {
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
            var children_ = writer.finish()
            // Splice the ChildShards member into the answer (drop the wrapper's braces).
            children_.moveReaderIndex(forwardBy: 1)
            children_.moveWriterIndex(to: children_.writerIndex - 1)
            response.writeInteger(UInt8(ascii: ","))
            response.writeBuffer(&children_)
        }
        let behind = drained ? 0 : Int(max(0, now - shard.records[index].arrival) * 1000)
        response.writeStaticString(",\"MillisBehindLatest\":")
        response.writeString(String(behind))
        response.writeInteger(UInt8(ascii: "}"))
        return response
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
