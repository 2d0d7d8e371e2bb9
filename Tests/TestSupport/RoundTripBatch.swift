import Backoff
import KinesisAPI

/// Records for a round trip: odd keys, an empty payload, binary data, explicit hash keys (none on a shard boundary,
/// which moto mishandles).
public func roundTripBatch() -> [PutRecordsEntry] {
    var generator = SplitMix64(seed: 2026)
    return [
        PutRecordsEntry(data: Array("first".utf8), partitionKey: "a"),
        PutRecordsEntry(data: [], partitionKey: "empty-payload"),
        PutRecordsEntry(data: (0...255).map { UInt8($0) }, partitionKey: "all-bytes"),
        PutRecordsEntry(data: [0x00, 0x00, 0xFF, 0x0A, 0x0D], partitionKey: "partitionKey"),
        PutRecordsEntry(data: Array("ünïcödé ✓".utf8), partitionKey: "ü-ключ-🙂"),
        PutRecordsEntry(data: [1, 2, 3], partitionKey: "routed-by-ehk-0", explicitHashKey: "0"),
        PutRecordsEntry(data: [4, 5, 6], partitionKey: "routed-by-ehk-2", explicitHashKey: "170141183460469231731687303715884105729"),
        PutRecordsEntry(data: Array(#"{"json":"with \"quotes\" and \\"}"#.utf8), partitionKey: #"key "with" \ quotes"#),
        PutRecordsEntry(data: [UInt8].random(count: 100_000, using: &generator), partitionKey: "large"),
        PutRecordsEntry(data: [UInt8].random(count: 17, using: &generator), partitionKey: "tab\tkey"),
        PutRecordsEntry(data: [9], partitionKey: "/slash/and+plus="),
    ]
}
