import KinesisAggregation
import Testing

@Suite("KPL aggregated record format")
struct KinesisAggregationTests {
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    @Test("byte-exact with the reference vector (== aws-kinesis-agg)")
    func vector() {
        let aggregate = KinesisAggregation.aggregate([
            .init(partitionKey: "a", data: Array("1".utf8)),
            .init(partitionKey: "b", data: Array("22".utf8)),
            .init(partitionKey: "a", data: Array("333".utf8)),
        ])
        #expect(
            Self.hex(aggregate)
                == "f3899ac2" + "0a0161" + "0a0162" + "1a0508001a0131" + "1a0608011a023232" + "1a0708001a03333333"
                + "4bc640d56a635badc78d334194df8aa2"
        )
    }

    @Test("round trip with explicit hash keys, empty payloads, unicode keys, large payloads")
    func roundTrip() throws {
        var generator = SystemRandomNumberGenerator()
        let records: [KinesisAggregation.UserRecord] = (0..<200).map { index in
            .init(
                partitionKey: index % 7 == 0 ? "ü-ключ-🙂-\(index % 3)" : "key-\(index % 11)",
                explicitHashKey: index % 5 == 0 ? String(UInt64.random(in: 0...UInt64.max, using: &generator)) : nil,
                data: (0..<(index == 3 ? 0 : index * 37 % 700)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            )
        }
        let aggregate = KinesisAggregation.aggregate(records)
        #expect(try #require(KinesisAggregation.deaggregate(aggregate)) == records)
    }

    @Test("the size estimator predicts the exact aggregate size record by record")
    func sizeEstimator() {
        var estimator = KinesisAggregation.SizeEstimator()
        var records: [KinesisAggregation.UserRecord] = []
        for index in 0..<300 {
            let record = KinesisAggregation.UserRecord(
                partitionKey: "k\(index % 150)",
                explicitHashKey: index % 4 == 0 ? "\(index % 9)" : nil,
                data: Array(repeating: UInt8(index % 256), count: index % 200)
            )
            let predicted = estimator.size(adding: record)
            estimator.add(record)
            records.append(record)
            #expect(predicted == estimator.size)
            #expect(estimator.size == KinesisAggregation.aggregate(records).count, "after \(index + 1) records")
        }
    }

    @Test("plain records, bad checksums and truncated data are not aggregates")
    func notAggregates() {
        let aggregate = KinesisAggregation.aggregate([.init(partitionKey: "a", data: [1, 2, 3]), .init(partitionKey: "b", data: [4])])
        #expect(KinesisAggregation.deaggregate(Array("plain record".utf8)) == nil)
        var corrupted = aggregate
        corrupted[6] ^= 0xFF
        #expect(KinesisAggregation.deaggregate(corrupted) == nil)
        #expect(KinesisAggregation.deaggregate(Array(aggregate.prefix(19))) == nil)
        #expect(KinesisAggregation.deaggregate(KinesisAggregation.magic + Array(repeating: 0, count: 16)) == nil)
    }
}
