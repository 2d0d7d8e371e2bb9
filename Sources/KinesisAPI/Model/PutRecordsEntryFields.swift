/// What a PutRecords body takes from a record.
///
/// A producer's own record type conforms, so its batches are written into the request body as they are, without
/// first being copied into ``PutRecordsEntry`` values (an array and a retain of every record's data per call).
public protocol PutRecordsEntryFields {
    /// The record's data, at most 1 MiB with the partition key.
    var data: [UInt8] { get }
    /// 1 to 256 Unicode characters; its MD5 picks the shard unless `explicitHashKey` is set.
    var partitionKey: String { get }
    /// A decimal hash key that overrides the partition key's.
    var explicitHashKey: String? { get }
}

extension PutRecordsEntry: PutRecordsEntryFields {}
