import Foundation

/// Where GetShardIterator starts reading.
public struct ShardIteratorPosition: Sendable, Hashable {
    /// `TRIM_HORIZON`, `LATEST`, `AT_SEQUENCE_NUMBER`, `AFTER_SEQUENCE_NUMBER` or `AT_TIMESTAMP`.
    public var type: String
    /// With `AT_SEQUENCE_NUMBER` and `AFTER_SEQUENCE_NUMBER`.
    public var sequenceNumber: String?
    /// With `AT_TIMESTAMP`.
    public var timestamp: Date?

    /// The oldest record in retention.
    public static let trimHorizon = ShardIteratorPosition(type: "TRIM_HORIZON")
    /// Just after the newest record.
    public static let latest = ShardIteratorPosition(type: "LATEST")
    /// At a sequence number.
    public static func at(sequenceNumber: String) -> ShardIteratorPosition {
        ShardIteratorPosition(type: "AT_SEQUENCE_NUMBER", sequenceNumber: sequenceNumber)
    }
    /// Just after a sequence number.
    public static func after(sequenceNumber: String) -> ShardIteratorPosition {
        ShardIteratorPosition(type: "AFTER_SEQUENCE_NUMBER", sequenceNumber: sequenceNumber)
    }
    /// At the first record at or after a time.
    public static func at(timestamp: Date) -> ShardIteratorPosition {
        ShardIteratorPosition(type: "AT_TIMESTAMP", timestamp: timestamp)
    }

    /// Creates a position.
    public init(type: String, sequenceNumber: String? = nil, timestamp: Date? = nil) {
        self.type = type
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
    }
}
