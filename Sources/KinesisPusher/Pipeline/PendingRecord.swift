import KinesisAPI

/// An accepted record on its way: the record, its routing hash, its clock, and who hears about its outcome.
struct PendingRecord {
    enum Completion {
        /// `send`: failures go to the failure handler.
        case handler
        /// `put`: the caller waits for the outcome.
        case continuation(CheckedContinuation<PutResult, any Error>)
    }

    let id: UInt64
    let record: Record
    let hash: UInt128
    let size: Int
    let acceptedAt: ContinuousClock.Instant
    /// When the record expires; `nil` never.
    let deadline: ContinuousClock.Instant?
    let completion: Completion
    var attempts = 0
    /// Not to be sent before this (backoff after a failed attempt).
    var notBefore: ContinuousClock.Instant?
    var lastError: KinesisError?
    /// The shard the map predicted when the record was last sent.
    var predictedShard: String?
    /// Ordered mode: counted in the runner's busy keys (in flight, backing off, or waiting for its aggregate's
    /// shard to be known).
    var holdsKey = false
}
