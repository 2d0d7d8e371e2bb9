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

        init(id: UInt64, record: Record, hash: UInt128, size: Int, acceptedAt: ContinuousClock.Instant, deadline: ContinuousClock.Instant?, completion: Completion) {
            self.id = id
            self.record = record
            self.hash = hash
            self.size = size
            self.acceptedAt = acceptedAt
            self.deadline = deadline
            self.completion = completion
        }
    }

    let fixed: Fixed
    var attempts = 0
    /// Not to be sent before this (backoff after a failed attempt).
    var notBefore: ContinuousClock.Instant?
    var lastError: KinesisError?
    /// The shard the map predicted when the record was last sent.
    var predictedShard: String?
    /// Ordered mode: counted in the runner's busy keys (in flight, backing off, or waiting for its aggregate's
    /// shard to be known).
    var holdsKey = false

    init(id: UInt64, record: Record, hash: UInt128, size: Int, acceptedAt: ContinuousClock.Instant, deadline: ContinuousClock.Instant?, completion: Completion) {
        fixed = Fixed(id: id, record: record, hash: hash, size: size, acceptedAt: acceptedAt, deadline: deadline, completion: completion)
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
}
