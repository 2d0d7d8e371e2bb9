import KinesisAPI

/// Why a record was refused or could not be delivered.
///
/// Every accepted record ends with exactly one outcome: delivered, or one of these. The message names the record's
/// partition key and the cause (which limit, which AWS error, after how many attempts).
public struct RunnerError: Error, Sendable, CustomStringConvertible {
    /// A kind of failure; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Backing: Hashable, Sendable {
            case invalidRecord, bufferFull, notRunning, shutdown, expired, attemptsExhausted, rejected, streamUnusable
        }
        private let backing: Backing
        private init(_ backing: Backing) { self.backing = backing }

        /// The record breaks a Kinesis limit (key length, record size, hash key); it never reached a batch.
        public static let invalidRecord = Code(.invalidRecord)
        /// `trySend` found the buffer full.
        public static let bufferFull = Code(.bufferFull)
        /// The runner is not configured, or has finished.
        public static let notRunning = Code(.notRunning)
        /// Shutdown came before the record could be delivered.
        public static let shutdown = Code(.shutdown)
        /// The record's time to live ran out while it was being retried.
        public static let expired = Code(.expired)
        /// The record used up its attempts.
        public static let attemptsExhausted = Code(.attemptsExhausted)
        /// Kinesis refused the request in a way retrying cannot fix (validation, a bad argument).
        public static let rejected = Code(.rejected)
        /// The stream cannot be written at all (missing stream, access denied, bad credentials, KMS key
        /// unusable); the runner stops.
        public static let streamUnusable = Code(.streamUnusable)

        public var description: String {
            switch backing {
            case .invalidRecord: "invalidRecord"
            case .bufferFull: "bufferFull"
            case .notRunning: "notRunning"
            case .shutdown: "shutdown"
            case .expired: "expired"
            case .attemptsExhausted: "attemptsExhausted"
            case .rejected: "rejected"
            case .streamUnusable: "streamUnusable"
            }
        }
    }

    /// What went wrong.
    public var code: Code
    /// A human-readable cause.
    public var message: String
    /// PutRecords attempts made for the record (0 when it never left the buffer).
    public var attempts: Int
    /// The last Kinesis error behind it, if any.
    public var kinesisError: KinesisError?

    /// Creates an error.
    public init(_ code: Code, message: String, attempts: Int = 0, kinesisError: KinesisError? = nil) {
        self.code = code
        self.message = message
        self.attempts = attempts
        self.kinesisError = kinesisError
    }

    public var description: String {
        var text = "\(code): \(message)"
        if attempts > 0 { text += " (after \(attempts) attempt\(attempts == 1 ? "" : "s"))" }
        return text
    }
}
