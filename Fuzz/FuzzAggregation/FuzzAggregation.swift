import Crypto
import FuzzSupport
import KinesisAggregation

/// The libFuzzer test for `KinesisAggregation`. The first byte picks a mode:
/// 0. the rest is a Kinesis record as received: `deaggregate` must not crash, and what it decodes must survive
///    `aggregate` and `deaggregate` again unchanged;
/// 1. the rest is an aggregate's protobuf body: magic and a matching MD5 are added, so the protobuf reader is
///    reached on every input; same checks as 0;
/// 2. the rest describes user records (see ``records(from:)``): `deaggregate(aggregate(records))` must give them
///    back exactly, and the size estimator must predict the aggregate's size.
func fuzzAggregation(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    guard let mode = input.first else { return 0 }
    let rest = Array(input.dropFirst())
    switch mode % 3 {
    case 0:
        checkDecoded(rest)
    case 1:
        checkDecoded(KinesisAggregation.magic + rest + Array(Insecure.MD5.hash(data: rest)))
    default:
        checkRoundTrip(records(from: rest))
    }
    return 0
}

/// Whatever `deaggregate` reads from `record` is a fixed point of aggregating and reading again.
func checkDecoded(_ record: [UInt8]) {
    guard let decoded = KinesisAggregation.deaggregate(record) else { return }
    checkRoundTrip(decoded)
}

/// `records` come back from their aggregate unchanged (none: the aggregate is not one, as the KCL reads it), the
/// aggregate is a fixed point, and the size estimator predicts its size exactly.
func checkRoundTrip(_ records: [KinesisAggregation.UserRecord]) {
    let aggregate = KinesisAggregation.aggregate(records)
    let decoded = KinesisAggregation.deaggregate(aggregate)
    if records.isEmpty {
        check(decoded == nil, "an aggregate of no records reads as an aggregate")
    } else {
        check(decoded == records, "aggregate/deaggregate changed the records: \(records) -> \(String(describing: decoded))")
        check(KinesisAggregation.aggregate(decoded ?? []) == aggregate, "aggregate is not a fixed point")
    }
    var estimator = KinesisAggregation.SizeEstimator()
    for record in records {
        let predicted = estimator.size(adding: record)
        estimator.add(record)
        check(estimator.size == predicted, "size(adding:) and add disagree")
    }
    check(estimator.size == aggregate.count, "estimated \(estimator.size) bytes, aggregate has \(aggregate.count)")
    check(estimator.count == records.count)
}

/// User records from bytes: per record a flags byte (bit 0: has an explicit hash key), then length-prefixed (one
/// byte) partition key, hash key if flagged, and data. Keys are read as UTF-8 with repairs, as `deaggregate` does.
func records(from bytes: [UInt8]) -> [KinesisAggregation.UserRecord] {
    var reader = bytes[...]
    func field() -> [UInt8] {
        guard let length = reader.popFirst() else { return [] }
        let value = Array(reader.prefix(Int(length)))
        reader = reader.dropFirst(Int(length))
        return value
    }
    var records: [KinesisAggregation.UserRecord] = []
    while let flags = reader.popFirst() {
        let key = String(decoding: field(), as: UTF8.self)
        let hashKey = flags & 1 == 1 ? String(decoding: field(), as: UTF8.self) : nil
        records.append(.init(partitionKey: key, explicitHashKey: hashKey, data: field()))
    }
    return records
}
