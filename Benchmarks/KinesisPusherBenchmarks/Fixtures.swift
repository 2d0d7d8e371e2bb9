import KinesisAPI
import KinesisAggregation

/// Deterministic inputs shared by the benchmarks: 100-byte records over 1000 partition keys.
enum Fixtures {
    static let recordBytes = 100
    static let keyCount = 1000

    static func partitionKey(_ index: Int) -> String { "partition-key-\(index % keyCount)" }

    static func data(_ index: Int, size: Int = recordBytes) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
    }

    static func entries(_ count: Int, size: Int = recordBytes) -> [PutRecordsEntry] {
        (0..<count).map { PutRecordsEntry(data: data($0, size: size), partitionKey: partitionKey($0)) }
    }

    static func userRecords(_ count: Int, size: Int = recordBytes) -> [KinesisAggregation.UserRecord] {
        (0..<count).map { KinesisAggregation.UserRecord(partitionKey: partitionKey($0), data: data($0, size: size)) }
    }
}
