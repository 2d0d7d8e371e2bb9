import KinesisAPI
import NIOCore

/// SplitShard, MergeShards, UpdateShardCount and UpdateStreamMode. Resharding is instant here (AWS takes
/// seconds in `UPDATING`); the lineage is AWS's: a split's two children name their parent, a merge's child names
/// both, and uniform scaling is a series of both.
extension BackendState {
    mutating func splitShard(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let address = try existingStream(try p.string("StreamName"), arn: try p.string("StreamARN"), in: context)
        let shardID = try p.required("ShardToSplit", p.string)
        let keyText = try p.required("NewStartingHashKey", p.string)
        guard let newStart = HashKey(decimal: keyText)?.value else {
            throw .validation(
                "1 validation error detected: Value '\(keyText.prefix(300))' at 'newStartingHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})"
            )
        }
        let index = try reshardableShard(shardID, of: address)
        try checkShardLimit(adding: 1, in: address.region)
        let (limits, account) = (shardLimits, self.account)
        try withStream(address) { stream throws(AWSErrorReply) in
            let shard = stream.shards[index]
            guard newStart > shard.startingHashKey + 1, newStart < shard.endingHashKey else {
                throw .invalidArgument(
                    "NewStartingHashKey \(keyText) used in SplitShard() on shard \(shardID) in stream \(address.name) under account \(account) is not both greater than one plus the shard's StartingHashKey \(shard.startingHashKey) and less than the shard's EndingHashKey \(shard.endingHashKey)."
                )
            }
            stream.split(index, at: newStart, now: context.now, shardLimits: limits)
        }
        return ByteBuffer(string: "{}")
    }

    mutating func mergeShards(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let address = try existingStream(try p.string("StreamName"), arn: try p.string("StreamARN"), in: context)
        let firstID = try p.required("ShardToMerge", p.string)
        let secondID = try p.required("AdjacentShardToMerge", p.string)
        let first = try reshardableShard(firstID, of: address)
        let second = try reshardableShard(secondID, of: address)
        let (limits, account) = (shardLimits, self.account)
        try withStream(address) { stream throws(AWSErrorReply) in
            // Either order names the pair; the child's parent is the shard with the lower range.
            let (low, high) = stream.shards[first].startingHashKey < stream.shards[second].startingHashKey ? (first, second) : (second, first)
            guard first != second, stream.shards[low].endingHashKey &+ 1 == stream.shards[high].startingHashKey else {
                throw .invalidArgument(
                    "Shards \(firstID) and \(secondID) in stream \(address.name) under account \(account) are not an adjacent pair of shards eligible for merging"
                )
            }
            stream.merge(low, high, now: context.now, shardLimits: limits)
        }
        return ByteBuffer(string: "{}")
    }

    /// The index of an open shard of a provisioned stream (AWS refuses to reshard an on-demand stream by hand).
    func reshardableShard(_ shardID: String, of address: StreamAddress) throws(AWSErrorReply) -> Int {
        let stream = streams[address]!
        guard stream.mode == "PROVISIONED" else {
            throw .validation("Request is invalid. Stream \(address.name) under account \(account) is in On-Demand mode.")
        }
        guard let index = stream.shards.firstIndex(where: { $0.id == shardID }) else {
            throw AWSErrorReply(
                status: 400,
                type: "ResourceNotFoundException",
                message: "Could not find shard \(shardID) in stream \(address.name) under account \(account)."
            )
        }
        guard stream.shards[index].isOpen else {
            throw .resourceInUse(
                "Shard \(shardID) in stream \(address.name) under account \(account) has already been merged or split, and thus is not eligible for merging or splitting."
            )
        }
        return index
    }

    mutating func updateShardCount(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let address = try existingStream(try p.string("StreamName"), arn: try p.string("StreamARN"), in: context)
        let target = try p.required("TargetShardCount", p.int)
        let scaling = try p.required("ScalingType", p.string)
        guard scaling == "UNIFORM_SCALING" else {
            throw .validation(
                "1 validation error detected: Value '\(scaling)' at 'scalingType' failed to satisfy constraint: Member must satisfy enum value set: [UNIFORM_SCALING]"
            )
        }
        try checkShardCountBounds(stream: streams[address]!, target: target)
        try checkShardLimit(adding: target - streams[address]!.openShardIndices.count, in: address.region)
        let current = try updateShardCount(stream: address, target: target, now: context.now)
        var writer = JSONObjectWriter()
        writer.field("StreamName", address.name)
        writer.field("StreamARN", arn(address))
        writer.field("CurrentShardCount", current)
        writer.field("TargetShardCount", target)
        return writer.finish()
    }

    /// Uniform scaling to `target` open shards, without the API's bounds (the admin endpoint and
    /// ``KinesisLocal/reshard(stream:shardCount:)`` use it directly). Returns the open shards before.
    mutating func updateShardCount(stream address: StreamAddress, target: Int, now: Double) throws(AWSErrorReply) -> Int {
        guard (1...10_000).contains(target) else {
            throw .validation("1 validation error detected: Value '\(target)' at 'targetShardCount' failed to satisfy constraint: Member must have value between 1 and 10000")
        }
        let limits = shardLimits
        return try withStream(address) { stream in
            let current = stream.openShardIndices.count
            stream.scaleUniformly(to: target, now: now, shardLimits: limits)
            return current
        }
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

    /// UpdateStreamMode: the shards stay as they are (AWS rescales an on-demand stream later, by traffic); two
    /// switches per stream in 24 hours.
    mutating func updateStreamMode(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let arnText = try p.required("StreamARN", p.string)
        let address = try existingStream(nil, arn: arnText, in: context)
        let details = try p.required("StreamModeDetails", p.object)
        let mode = try details.required("StreamMode", details.string)
        guard ["ON_DEMAND", "PROVISIONED"].contains(mode) else {
            throw .validation("1 validation error detected: Value '\(mode)' at 'streamModeDetails.streamMode' failed to satisfy constraint: Member must satisfy enum value set: [ON_DEMAND, PROVISIONED]")
        }
        let stream = streams[address]!
        guard stream.mode != mode else {
            throw .resourceInUse("Stream \(address.name) under account \(account) is already in \(mode) mode.")
        }
        let recent = stream.modeSwitches.filter { context.now - $0 < 86_400 }
        guard recent.count < 2 else {
            throw AWSErrorReply(
                status: 400,
                type: "LimitExceededException",
                message: "Stream \(address.name) under account \(account) has switched capacity mode twice in the last 24 hours; the next switch is allowed 24 hours after the first."
            )
        }
        if mode == "ON_DEMAND" { try checkOnDemandLimit(in: address.region) }
        try withStream(address) { stream in
            stream.mode = mode
            stream.modeSwitches = recent + [context.now]
        }
        return ByteBuffer(string: "{}")
    }
}
