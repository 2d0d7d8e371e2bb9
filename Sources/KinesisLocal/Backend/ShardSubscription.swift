import NIOCore

/// A SubscribeToShard in progress: whose it is, where its reading stands, until when it runs. The HTTP layer
/// holds it and asks ``BackendState/step(_:now:)`` for the next event every few hundred milliseconds.
struct ShardSubscription {
    var consumerARN: String
    var address: StreamAddress
    var shardID: String
    /// The counter after which the next event's records start.
    var after: UInt64
    /// AWS ends a subscription after five minutes (``KinesisLocal/Configuration/subscriptionLifetime``).
    var endsAt: Double
    var lastEventAt = -Double.infinity
    /// An event goes out at least this often, records or not, so a consumer sees the subscription alive.
    var heartbeat: Double

    /// What the subscription sends next.
    enum Step {
        /// Nothing new, and a heartbeat is not due.
        case wait
        /// An event; more may follow.
        case send(EventStreamPayload)
        /// A last event or exception (or none), then the stream ends.
        case finish(EventStreamPayload?)
    }

    /// A message body ready for the event stream: an event's JSON or an exception.
    enum EventStreamPayload {
        case event(type: String, json: ByteBuffer)
        case exception(AWSErrorReply)
    }
}
