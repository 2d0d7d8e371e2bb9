import KinesisAPI

/// An accepted record on its way: the record, its routing hash, its clock, and who hears about its outcome.
///
/// What never changes lives in one shared box, so moving a record between the buffer, a batch and an outcome
/// costs one reference count instead of one per field.
struct PendingRecord {
    enum Completion {
        /// `send`: failures go to the failure handler.
        case handler
        /// `put`: the caller waits for the outcome.
        case continuation(CheckedContinuation<PutResult, any Error>)
    }

    final class Fixed: Sendable {
        let id: UInt64
        let record: Record
        let hash: UInt128
        let size: Int
        let acceptedAt: ContinuousClock.Instant
        let deadline: ContinuousClock.Instant?
        let completion: Completion
        /// Ordered mode: the partition key's hash value, worked out once (a collision only makes two keys wait
        /// for each other).
        let orderingKey: Int

        init(id: UInt64, record: Record, hash: UInt128, size: Int, acceptedAt: ContinuousClock.Instant, deadline: ContinuousClock.Instant?, completion: Completion, ordered: Bool) {
            self.id = id
            self.record = record
            self.hash = hash
            self.size = size
            self.acceptedAt = acceptedAt
            self.deadline = deadline
            self.completion = completion
            self.orderingKey = ordered ? record.partitionKey.hashValue : 0
        }
    }

    let fixed: Fixed
    var attempts = 0
    /// Not to be sent before this (backoff after a failed attempt).
    var notBefore: ContinuousClock.Instant?
    /// The error of the last failed attempt, boxed: most records never fail, and a `KinesisError` held inline
    /// would triple the size of every record moved between lanes, batches and outcomes.
    var lastError: KinesisError? {
        get { lastErrorBox?.error }
        set { lastErrorBox = newValue.map(ErrorBox.init) }
    }
    private var lastErrorBox: ErrorBox?

    final class ErrorBox: Sendable {
        let error: KinesisError
        init(_ error: KinesisError) { self.error = error }
    }
    /// The shard the map predicted when the record was last sent: its number in the runner's shard names
    /// (``RunnerStateMachine/shardNames``); -1 for none.
    var predictedShard: Int32 = -1
    /// Ordered mode: counted in the runner's busy keys (in flight, backing off, or waiting for its aggregate's
    /// shard to be known).
    var holdsKey = false
    /// Ordered mode: next in line for its key (a retry, or released from the parked records), so it goes ahead
    /// of the key's parked records.
    var isKeyHead = false
    /// Failed attempts that came while the stream was failing (``RunnerStateMachine/streamWasFailing(_:)``):
    /// the backoff grows with these, not with attempts that failed alone among deliveries.
    var strikes: UInt8 = 0

    init(
        id: UInt64,
        record: Record,
        hash: UInt128,
        size: Int,
        acceptedAt: ContinuousClock.Instant,
        deadline: ContinuousClock.Instant?,
        completion: Completion,
        ordered: Bool = false
    ) {
        fixed = Fixed(id: id, record: record, hash: hash, size: size, acceptedAt: acceptedAt, deadline: deadline, completion: completion, ordered: ordered)
    }

    var id: UInt64 { fixed.id }
    var record: Record { fixed.record }
    var hash: UInt128 { fixed.hash }
    /// Data plus partition key, as Kinesis bills it.
    var size: Int { fixed.size }
    var acceptedAt: ContinuousClock.Instant { fixed.acceptedAt }
    /// When the record expires; `nil` never.
    var deadline: ContinuousClock.Instant? { fixed.deadline }
    var completion: Completion { fixed.completion }
    var orderingKey: Int { fixed.orderingKey }
}

/// A raw batch's records are written into the request body as they are.
extension PendingRecord: PutRecordsEntryFields {
    var data: [UInt8] { fixed.record.data }
    var partitionKey: String { fixed.record.partitionKey }
    var explicitHashKey: String? { fixed.record.explicitHashKey }
}
