import KinesisAPI
import NIOCore

/// SubscribeToShard: enhanced fan-out's push of a shard's records to a registered consumer, as an event stream
/// over one long HTTP answer (boto3's `subscribe_to_shard` reads it over HTTP/1.1).
extension BackendState {
    /// Starts a subscription. One per consumer and shard within five seconds, as AWS allows.
    mutating func subscribeToShard(_ p: RequestParameters, in context: RequestContext, lifetime: Double) throws(AWSErrorReply) -> ShardSubscription {
        let consumerARN = try p.required("ConsumerARN", p.string)
        guard case .consumer(let address, _) = try resource(consumerARN, member: "ConsumerARN", in: context) else {
            throw .invalidArgument("ConsumerARN \(consumerARN) names a stream, not a consumer.")
        }
        streams[address]?.trimExpired(now: context.now)
        let shard = try existingShard(try p.required("ShardId", p.string), of: address)
        let position = try p.required("StartingPosition", p.object)
        let after = try startingPosition(
            type: try position.required("Type", position.string),
            sequenceNumber: try position.string("SequenceNumber"),
            timestamp: try position.double("Timestamp"),
            shard: shard,
            of: address,
            operation: "SubscribeToShard"
        )
        let key = consumerARN + " " + shard.id
        if let started = subscriptionStarts[key], context.now - started < 5 {
            throw .resourceInUse(
                "Another active subscription exists for consumer \(consumerARN) on shard \(shard.id); subscribe again 5 seconds after the last call."
            )
        }
        subscriptionStarts[key] = context.now
        return ShardSubscription(
            consumerARN: consumerARN,
            address: address,
            shardID: shard.id,
            after: after,
            endsAt: context.now + lifetime,
            heartbeat: min(5, lifetime)
        )
    }

    /// The subscription's next event: the records after its position (up to 1 MiB), or a heartbeat when one is
    /// due; the last event of a closed shard carries its children and ends the stream, as does a deleted consumer
    /// or stream (with ResourceNotFoundException) and the end of its lifetime.
    mutating func step(_ subscription: inout ShardSubscription, now: Double) -> ShardSubscription.Step {
        streams[subscription.address]?.trimExpired(now: now)
        guard let stream = streams[subscription.address],
            stream.consumers.contains(where: { $0.arn == subscription.consumerARN }),
            let shard = stream.shards.first(where: { $0.id == subscription.shardID })
        else {
            return .finish(.exception(AWSErrorReply(
                status: 400,
                type: "ResourceNotFoundException",
                message: "Consumer \(subscription.consumerARN) or its stream no longer exists."
            )))
        }
        var event = ByteBuffer()
        event.writeStaticString("{")
        let read = Self.writeRecords(
            of: shard,
            after: subscription.after,
            limit: 10_000,
            maxBytes: 1 << 20,
            encrypted: stream.encryptionType == "KMS",
            now: now,
            into: &event
        )
        let ended = !shard.isOpen && read.drained
        guard read.count > 0 || ended || now - subscription.lastEventAt >= subscription.heartbeat else {
            return now >= subscription.endsAt ? .finish(nil) : .wait
        }
        event.writeStaticString(",\"ContinuationSequenceNumber\":\"")
        LocalStream.writeSequenceNumber(shardOrdinal: shard.ordinal, counter: read.last, into: &event)
        event.writeStaticString("\",\"MillisBehindLatest\":")
        event.writeString(String(read.millisBehind))
        if ended { Self.writeChildShards(of: shard, in: stream, into: &event) }
        event.writeInteger(UInt8(ascii: "}"))
        subscription.after = read.last
        subscription.lastEventAt = now
        let payload = ShardSubscription.EventStreamPayload.event(type: "SubscribeToShardEvent", json: event)
        return ended || now >= subscription.endsAt ? .finish(payload) : .send(payload)
    }
}
