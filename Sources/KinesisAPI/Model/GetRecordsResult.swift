import ExtrasBase64
import Foundation

/// The answer to GetRecords.
public struct GetRecordsResult: Sendable, Hashable, Decodable {
    /// The records, in shard order.
    public var records: [Record]
    /// Where to read next; `nil` once a closed shard is drained.
    public var nextShardIterator: String?
    /// How far behind the tip of the shard this read is.
    public var millisBehindLatest: Int?

    /// One stored record.
    public struct Record: Sendable, Hashable, Decodable {
        /// The record's sequence number within its shard.
        public var sequenceNumber: String
        /// The key it was put with.
        public var partitionKey: String
        /// The payload, decoded from base64.
        public var data: [UInt8]
        /// When Kinesis stored it, roughly.
        public var approximateArrivalTimestamp: Date?

        enum CodingKeys: String, CodingKey {
            case sequenceNumber = "SequenceNumber", partitionKey = "PartitionKey", data = "Data"
            case approximateArrivalTimestamp = "ApproximateArrivalTimestamp"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            sequenceNumber = try container.decode(String.self, forKey: .sequenceNumber)
            partitionKey = try container.decode(String.self, forKey: .partitionKey)
            let encoded = try container.decode(String.self, forKey: .data)
            do {
                data = try Base64.decode(string: encoded)
            } catch {
                throw DecodingError.dataCorruptedError(forKey: .data, in: container, debugDescription: "Data is not base64")
            }
            approximateArrivalTimestamp = try container.decodeIfPresent(Double.self, forKey: .approximateArrivalTimestamp)
                .map { Date(timeIntervalSince1970: $0) }
        }
    }

    enum CodingKeys: String, CodingKey {
        case records = "Records", nextShardIterator = "NextShardIterator", millisBehindLatest = "MillisBehindLatest"
    }
}
