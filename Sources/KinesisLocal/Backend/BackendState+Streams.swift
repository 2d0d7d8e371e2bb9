import Foundation
import KinesisAPI
import NIOCore

extension BackendState {
    mutating func createStream(_ p: RequestParameters, now: Double) throws(AWSErrorReply) -> ByteBuffer {
        guard let name = try p.string("StreamName") else {
            throw .validation("1 validation error detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null")
        }
        let mode = try p.object("StreamModeDetails")?.string("StreamMode")
        try createStream(
            name: name,
            shardCount: try p.int("ShardCount"),
            mode: mode,
            maxRecordSizeKiB: try p.int("MaxRecordSizeInKiB"),
            now: now
        )
        return ByteBuffer(string: "{}")
    }

    mutating func deleteStream(_ p: RequestParameters) throws(AWSErrorReply) -> ByteBuffer {
        let name = try existingStream(try p.string("StreamName"), arn: try p.string("StreamARN"))
        deleteStream(name)
        return ByteBuffer(string: "{}")
    }

    func listStreams(_ p: RequestParameters) throws(AWSErrorReply) -> ByteBuffer {
        let limit = try p.int("Limit") ?? 100
        guard (1...10_000).contains(limit) else {
            throw .validation("1 validation error detected: Value '\(limit)' at 'limit' failed to satisfy constraint: Member must have value between 1 and 10000")
        }
        let start = try p.string("ExclusiveStartStreamName")
        let names = streams.keys.sorted().filter { start == nil || $0 > start! }
        let page = Array(names.prefix(limit))
        var writer = JSONObjectWriter()
        writer.field("StreamNames", strings: page)
        writer.field("HasMoreStreams", names.count > page.count)
        writer.field("StreamSummaries", objects: page) { name, object in
            let stream = streams[name]!
            object.field("StreamName", stream.name)
            object.field("StreamARN", stream.arn)
            object.field("StreamStatus", stream.status)
            object.field("StreamModeDetails") { $0.field("StreamMode", stream.mode) }
            object.field("StreamCreationTimestamp", epochSeconds: stream.createdAt)
        }
        return writer.finish()
    }

    func describeStreamSummary(_ p: RequestParameters) throws(AWSErrorReply) -> ByteBuffer {
        let stream = streams[try existingStream(try p.string("StreamName"), arn: try p.string("StreamARN"))]!
        var writer = JSONObjectWriter()
        writer.field("StreamDescriptionSummary") { object in
            object.field("StreamName", stream.name)
            object.field("StreamARN", stream.arn)
            object.field("StreamStatus", stream.status)
            object.field("StreamModeDetails") { $0.field("StreamMode", stream.mode) }
            object.field("RetentionPeriodHours", stream.retentionHours)
            object.field("StreamCreationTimestamp", epochSeconds: stream.createdAt)
            object.field("EnhancedMonitoring", objects: [0]) { _, monitoring in
                monitoring.field("ShardLevelMetrics", strings: [])
            }
            object.field("EncryptionType", "NONE")
            object.field("OpenShardCount", stream.openShardIndices.count)
            object.field("ConsumerCount", 0)
            object.field("MaxRecordSizeInKiB", stream.maxRecordSizeKiB)
        }
        return writer.finish()
    }

    func describeStream(_ p: RequestParameters) throws(AWSErrorReply) -> ByteBuffer {
        let stream = streams[try existingStream(try p.string("StreamName"), arn: try p.string("StreamARN"))]!
        let limit = min(try p.int("Limit") ?? 100, 10_000)
        guard limit >= 1 else { throw .validation("1 validation error detected: Value at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1") }
        let start = try p.string("ExclusiveStartShardId")
        let candidates = stream.shards.filter { start == nil || $0.id > start! }
        let page = Array(candidates.prefix(limit))
        var writer = JSONObjectWriter()
        writer.field("StreamDescription") { object in
            object.field("StreamName", stream.name)
            object.field("StreamARN", stream.arn)
            object.field("StreamStatus", stream.status)
            object.field("StreamModeDetails") { $0.field("StreamMode", stream.mode) }
            object.field("Shards", objects: page) { shard, item in Self.write(shard, into: &item) }
            object.field("HasMoreShards", candidates.count > page.count)
            object.field("RetentionPeriodHours", stream.retentionHours)
            object.field("StreamCreationTimestamp", epochSeconds: stream.createdAt)
            object.field("EnhancedMonitoring", objects: [0]) { _, monitoring in
                monitoring.field("ShardLevelMetrics", strings: [])
            }
            object.field("EncryptionType", "NONE")
        }
        return writer.finish()
    }

    /// ListShards with AWS's paging rules: follow-up pages take only `NextToken` (and `MaxResults`); a token
    /// lives 300 seconds.
    func listShards(_ p: RequestParameters, now: Double) throws(AWSErrorReply) -> ByteBuffer {
        let maxResults = try p.int("MaxResults") ?? 1000
        guard (1...10_000).contains(maxResults) else {
            throw .invalidArgument("MaxResults must be between 1 and 10000; got \(maxResults).")
        }
        var cursor: ShardPageToken
        if let token = try p.string("NextToken") {
            for member in ["StreamName", "StreamARN", "ShardFilter", "ExclusiveStartShardId", "StreamCreationTimestamp"] where p.has(member) {
                throw .invalidArgument("NextToken and \(member) cannot be provided together.")
            }
            guard let decoded = ShardPageToken(token: token) else {
                throw .invalidArgument("Invalid NextToken.")
            }
            guard now - decoded.issuedAt <= 300 else {
                throw AWSErrorReply(status: 400, type: "ExpiredNextTokenException", message: "The timestamp in NextToken has expired.")
            }
            cursor = decoded
        } else {
            let name = try existingStream(try p.string("StreamName"), arn: try p.string("StreamARN"))
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
            cursor = ShardPageToken(stream: name, openOnly: type == "AT_LATEST", after: after, offset: 0, issuedAt: now)
        }
        guard let stream = streams[cursor.stream] else { throw .resourceNotFound(stream: cursor.stream, account: account) }
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

    mutating func updateShardCount(_ p: RequestParameters, now: Double) throws(AWSErrorReply) -> ByteBuffer {
        let name = try existingStream(try p.string("StreamName"), arn: try p.string("StreamARN"))
        guard let target = try p.int("TargetShardCount") else {
            throw .validation("1 validation error detected: Value null at 'targetShardCount' failed to satisfy constraint: Member must not be null")
        }
        if let scaling = try p.string("ScalingType"), scaling != "UNIFORM_SCALING" {
            throw .validation("ScalingType must be UNIFORM_SCALING.")
        }
        try checkShardCountBounds(stream: streams[name]!, target: target)
        let current = try updateShardCount(stream: name, target: target, now: now)
        var writer = JSONObjectWriter()
        writer.field("StreamName", name)
        writer.field("StreamARN", arn(name))
        writer.field("CurrentShardCount", current)
        writer.field("TargetShardCount", target)
        return writer.finish()
    }

    /// UpdateShardCount's default limits, as Kinesis answers them: a provisioned stream only, at most double and
    /// at least half the open shards in one call, at most 10000 shards. (``KinesisLocal/reshard(stream:shardCount:)``
    /// and the admin endpoint skip these, so tests can reshard in one step; the ten-a-day limit is not kept.)
    func checkShardCountBounds(stream: LocalStream, target: Int) throws(AWSErrorReply) {
        guard target >= 1 else {
            throw .validation("1 validation error detected: Value '\(target)' at 'targetShardCount' failed to satisfy constraint: Member must have value greater than or equal to 1")
        }
        guard stream.mode == "PROVISIONED" else {
            throw .validation("Request is invalid. Stream \(stream.name) under account \(account) is in On-Demand mode.")
        }
        let open = stream.openShardIndices.count
        let counts = "Current open shard count: \(open), Target shard count: \(target)"
        if target > 10_000 {
            throw AWSErrorReply(status: 400, type: "LimitExceededException", message: "Target shard count or number of open shards cannot be greater than 10000. \(counts)")
        }
        if target > open * 2 {
            throw AWSErrorReply(status: 400, type: "LimitExceededException", message: "UpdateShardCount cannot scale up over double your current open shard count. \(counts)")
        }
        if target * 2 < open {
            throw AWSErrorReply(status: 400, type: "LimitExceededException", message: "UpdateShardCount cannot scale down below half your current open shard count. \(counts)")
        }
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
struct ShardPageToken: Codable {
    var stream: String
    var openOnly: Bool
    var after: String?
    var offset: Int
    var issuedAt: Double

    init(stream: String, openOnly: Bool, after: String?, offset: Int, issuedAt: Double) {
        self.stream = stream
        self.openOnly = openOnly
        self.after = after
        self.offset = offset
        self.issuedAt = issuedAt
    }

    init?(token: String) {
        guard let data = Data(base64Encoded: token), let decoded = try? JSONDecoder().decode(ShardPageToken.self, from: data) else {
            return nil
        }
        self = decoded
    }

    var token: String {
        (try? JSONEncoder().encode(self))?.base64EncodedString() ?? ""
    }
}
