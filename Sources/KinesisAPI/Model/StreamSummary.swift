import Foundation

/// What DescribeStreamSummary tells: status, mode, open shards and the record size limit.
public struct StreamSummary: Sendable, Hashable, Decodable {
    /// The stream's name.
    public var streamName: String
    /// The stream's ARN.
    public var streamARN: String
    /// `CREATING`, `DELETING`, `ACTIVE` or `UPDATING`.
    public var streamStatus: String
    /// `PROVISIONED` or `ON_DEMAND`; `nil` when the service does not say (older emulators).
    public var streamMode: String?
    /// Open shards: the stream-wide write budget is this times the per-shard limits.
    public var openShardCount: Int
    /// How long records are kept.
    public var retentionPeriodHours: Int?
    /// When the stream was created.
    public var streamCreationTimestamp: Date?
    /// `NONE` or `KMS`.
    public var encryptionType: String?
    /// The largest record the stream takes, in KiB (data plus partition key); 1024 when the service omits it.
    /// Always within ``maxRecordSizeInKiBRange``, so `maxRecordSizeInKiB * 1024` cannot overflow.
    public var maxRecordSizeInKiB: Int
    /// Registered enhanced fan-out consumers.
    public var consumerCount: Int?

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName", streamARN = "StreamARN", streamStatus = "StreamStatus"
        case streamModeDetails = "StreamModeDetails", openShardCount = "OpenShardCount"
        case retentionPeriodHours = "RetentionPeriodHours", streamCreationTimestamp = "StreamCreationTimestamp"
        case encryptionType = "EncryptionType", maxRecordSizeInKiB = "MaxRecordSizeInKiB", consumerCount = "ConsumerCount"
    }

    /// The record size limits accepted from an answer: Kinesis's 1024–10240 KiB with room on both sides for
    /// emulators, bounded so that the size in bytes is a plain `Int` product.
    public static let maxRecordSizeInKiBRange = 1...(1 << 20)

    struct ModeDetails: Decodable {
        var StreamMode: String
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        streamName = try container.decode(String.self, forKey: .streamName)
        streamARN = try container.decode(String.self, forKey: .streamARN)
        streamStatus = try container.decode(String.self, forKey: .streamStatus)
        streamMode = try container.decodeIfPresent(ModeDetails.self, forKey: .streamModeDetails)?.StreamMode
        openShardCount = try container.decode(Int.self, forKey: .openShardCount)
        guard openShardCount >= 0 else {
            throw DecodingError.dataCorruptedError(forKey: .openShardCount, in: container, debugDescription: "OpenShardCount \(openShardCount) is negative")
        }
        retentionPeriodHours = try container.decodeIfPresent(Int.self, forKey: .retentionPeriodHours)
        streamCreationTimestamp = try container.decodeIfPresent(Double.self, forKey: .streamCreationTimestamp)
            .map { Date(timeIntervalSince1970: $0) }
        encryptionType = try container.decodeIfPresent(String.self, forKey: .encryptionType)
        maxRecordSizeInKiB = try container.decodeIfPresent(Int.self, forKey: .maxRecordSizeInKiB) ?? 1024
        guard Self.maxRecordSizeInKiBRange.contains(maxRecordSizeInKiB) else {
            throw DecodingError.dataCorruptedError(
                forKey: .maxRecordSizeInKiB,
                in: container,
                debugDescription: "MaxRecordSizeInKiB \(maxRecordSizeInKiB) is outside \(Self.maxRecordSizeInKiBRange) (Kinesis allows 1024 to 10240)"
            )
        }
        consumerCount = try container.decodeIfPresent(Int.self, forKey: .consumerCount)
    }
}
