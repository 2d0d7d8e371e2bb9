import Foundation
import KinesisAPI
import NIOCore

extension BackendState {
    mutating func createStream(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        guard let name = try p.string("StreamName") else {
            throw .validation("1 validation error detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null")
        }
        let mode = try p.object("StreamModeDetails")?.string("StreamMode")
        try createStream(
            StreamAddress(region: context.region, name: name),
            shardCount: try p.int("ShardCount"),
            mode: mode,
            maxRecordSizeKiB: try p.int("MaxRecordSizeInKiB"),
            tags: try p.stringMap("Tags") ?? [:],
            now: context.now
        )
        return ByteBuffer(string: "{}")
    }

    /// DeleteStream; a stream with registered consumers goes only with `EnforceConsumerDeletion`, as in AWS.
    mutating func deleteStream(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let address = try existingStream(try p.string("StreamName"), arn: try p.string("StreamARN"), in: context)
        let consumers = streams[address]!.consumers.count
        if consumers > 0, try p.bool("EnforceConsumerDeletion") != true {
            throw .resourceInUse(
                "Stream \(address.name) under account \(account) has \(consumers) registered consumer\(consumers == 1 ? "" : "s"); deregister them or set EnforceConsumerDeletion."
            )
        }
        deleteStream(address)
        return ByteBuffer(string: "{}")
    }

    /// ListStreams of the request's region, by name, paged by `ExclusiveStartStreamName` or `NextToken` (the
    /// last name of the previous page).
    func listStreams(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let limit = try p.int("Limit") ?? 100
        guard (1...10_000).contains(limit) else {
            throw .validation("1 validation error detected: Value '\(limit)' at 'limit' failed to satisfy constraint: Member must have value between 1 and 10000")
        }
        var start = try p.string("ExclusiveStartStreamName")
        if let token = try p.string("NextToken") {
            guard let data = Data(base64Encoded: token), let name = String(data: data, encoding: .utf8), !name.isEmpty else {
                throw .invalidArgument("Invalid NextToken.")
            }
            start = name
        }
        let names = streams.keys.filter { $0.region == context.region && (start == nil || $0.name > start!) }.map(\.name).sorted()
        let page = Array(names.prefix(limit))
        var writer = JSONObjectWriter()
        writer.field("StreamNames", strings: page)
        writer.field("HasMoreStreams", names.count > page.count)
        if names.count > page.count, let last = page.last {
            writer.field("NextToken", Data(last.utf8).base64EncodedString())
        }
        writer.field("StreamSummaries", objects: page) { name, object in
            let stream = streams[StreamAddress(region: context.region, name: name)]!
            object.field("StreamName", stream.name)
            object.field("StreamARN", stream.arn)
            object.field("StreamStatus", stream.status)
            object.field("StreamModeDetails") { $0.field("StreamMode", stream.mode) }
            object.field("StreamCreationTimestamp", epochSeconds: stream.createdAt)
        }
        return writer.finish()
    }

    func describeStreamSummary(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let stream = streams[try existingStream(try p.string("StreamName"), arn: try p.string("StreamARN"), in: context)]!
        var writer = JSONObjectWriter()
        writer.field("StreamDescriptionSummary") { object in
            Self.writeCommonDescription(of: stream, into: &object)
            object.field("OpenShardCount", stream.openShardIndices.count)
            object.field("ConsumerCount", stream.consumers.count)
            object.field("MaxRecordSizeInKiB", stream.maxRecordSizeKiB)
        }
        return writer.finish()
    }

    func describeStream(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let stream = streams[try existingStream(try p.string("StreamName"), arn: try p.string("StreamARN"), in: context)]!
        let limit = min(try p.int("Limit") ?? 100, 10_000)
        guard limit >= 1 else { throw .validation("1 validation error detected: Value at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1") }
        let start = try p.string("ExclusiveStartShardId")
        let candidates = stream.shards.filter { start == nil || $0.id > start! }
        let page = Array(candidates.prefix(limit))
        var writer = JSONObjectWriter()
        writer.field("StreamDescription") { object in
            Self.writeCommonDescription(of: stream, into: &object)
            object.field("Shards", objects: page) { shard, item in Self.write(shard, into: &item) }
            object.field("HasMoreShards", candidates.count > page.count)
        }
        return writer.finish()
    }

    /// The members DescribeStream and DescribeStreamSummary share.
    static func writeCommonDescription(of stream: LocalStream, into object: inout JSONObjectWriter) {
        object.field("StreamName", stream.name)
        object.field("StreamARN", stream.arn)
        object.field("StreamStatus", stream.status)
        object.field("StreamModeDetails") { $0.field("StreamMode", stream.mode) }
        object.field("RetentionPeriodHours", stream.retentionHours)
        object.field("StreamCreationTimestamp", epochSeconds: stream.createdAt)
        object.field("EnhancedMonitoring", objects: [stream.shardLevelMetrics]) { metrics, monitoring in
            monitoring.field("ShardLevelMetrics", strings: metrics)
        }
        object.field("EncryptionType", stream.encryptionType)
        object.field("KeyId", stream.keyID)
    }

    /// ListShards with AWS's paging rules: follow-up pages take only `NextToken` (and `MaxResults`); a token
    /// lives 300 seconds.
    func listShards(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let now = context.now
        let maxResults = try p.int("MaxResults") ?? 1000
        guard (1...10_000).contains(maxResults) else {
            throw .invalidArgument("MaxResults must be between 1 and 10000; got \(maxResults).")
        }
        var cursor: ShardPageToken
        if let token = try p.string("NextToken") {
            for member in ["StreamName", "StreamARN", "ShardFilter", "ExclusiveStartShardId", "StreamCreationTimestamp"] where p.has(member) {
                throw .invalidArgument("NextToken and \(member) cannot be provided together.")
            }
            guard let decoded = ShardPageToken(token: token), decoded.region == context.region else {
                throw .invalidArgument("Invalid NextToken.")
            }
            guard now - decoded.issuedAt <= 300 else {
                throw AWSErrorReply(status: 400, type: "ExpiredNextTokenException", message: "The timestamp in NextToken has expired.")
            }
            cursor = decoded
        } else {
            let address = try existingStream(try p.string("StreamName"), arn: try p.string("StreamARN"), in: context)
            let filter = try p.object("ShardFilter")
            let type = try filter?.string("Type")
            if let type, !["AFTER_SHARD_ID", "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_LATEST", "AT_TIMESTAMP", "FROM_TIMESTAMP"].contains(type) {
                throw .validation("1 validation error detected: Value '\(type)' at 'shardFilter.type' failed to satisfy constraint: Member must satisfy enum value set")
            }
            var after = try p.string("ExclusiveStartShardId")
            if type == "AFTER_SHARD_ID" {
                guard let shardID = try filter?.string("ShardId") else {
                    throw .invalidArgument("ShardFilter of type AFTER_SHARD_ID requires a ShardId.")
                }
                after = shardID
            }
            cursor = ShardPageToken(region: address.region, stream: address.name, openOnly: type == "AT_LATEST", after: after, offset: 0, issuedAt: now)
        }
        let address = StreamAddress(region: cursor.region, name: cursor.stream)
        guard let stream = streams[address] else { throw notFound(address) }
        let matching = stream.shards.filter { shard in
            (!cursor.openOnly || shard.isOpen) && (cursor.after == nil || shard.id > cursor.after!)
        }
        // The token is the client's to forge: an offset outside the listing is refused, never used to index it.
        guard (0...matching.count).contains(cursor.offset) else {
            throw .invalidArgument("Invalid NextToken.")
        }
        let pageSize = min(maxResults, 1000)
        let page = Array(matching.dropFirst(cursor.offset).prefix(pageSize))
        var writer = JSONObjectWriter()
        writer.field("Shards", objects: page) { shard, item in Self.write(shard, into: &item) }
        if cursor.offset + page.count < matching.count {
            cursor.offset += page.count
            cursor.issuedAt = now
            writer.field("NextToken", cursor.token)
        }
        return writer.finish()
    }

    static func write(_ shard: LocalShard, into object: inout JSONObjectWriter) {
        object.field("ShardId", shard.id)
        object.field("ParentShardId", shard.parentID)
        object.field("AdjacentParentShardId", shard.adjacentParentID)
        object.field("HashKeyRange") { range in
            range.field("StartingHashKey", String(shard.startingHashKey))
            range.field("EndingHashKey", String(shard.endingHashKey))
        }
        object.field("SequenceNumberRange") { range in
            range.field("StartingSequenceNumber", LocalStream.sequenceNumber(shardOrdinal: shard.ordinal, counter: shard.startingCounter))
            range.field(
                "EndingSequenceNumber",
                shard.endingCounter.map { LocalStream.sequenceNumber(shardOrdinal: shard.ordinal, counter: $0) }
            )
        }
    }
}

/// The state of a ListShards listing, carried in `NextToken`.
struct ShardPageToken: OpaqueToken {
    var region: String
    var stream: String
    var openOnly: Bool
    var after: String?
    var offset: Int
    var issuedAt: Double
}
